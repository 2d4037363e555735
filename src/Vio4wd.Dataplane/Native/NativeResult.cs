using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane.Native;

/// <summary>Turns the C convention (0 or a negative errno, plus a per-thread error text) into exceptions.</summary>
internal static class NativeResult
{
    /// <summary>Throws when <paramref name="rc"/> is negative; must run on the thread that made the call.</summary>
    public static int Check(int rc, string operation)
    {
        if (rc >= 0)
        {
            return rc;
        }

        string detail = NativeMethods.ToManagedString(NativeMethods.LastError());
        if (detail.Length == 0)
        {
            detail = $"error {-rc}";
        }

        throw new DataplaneException(operation, -rc, $"{operation} failed: {detail}");
    }
}
