using Vio4wd.Core.Dataplane;

namespace Vio4wd.Dataplane.Native;

/// <summary>The errno values the binding raises itself.</summary>
internal enum Errno
{
    ENOENT = 2,
    EINVAL = 22,
    ERANGE = 34,
}
