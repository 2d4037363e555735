namespace Vio4wd.Daemon.Tests;

/// <summary>Removes what the daemons of this test run shared.</summary>
[SetUpFixture]
public sealed class TestRunCleanup
{
    [OneTimeTearDown]
    public void RemovePidDirectory()
    {
        if (Directory.Exists(DaemonProcess.PidDirectory))
        {
            Directory.Delete(DaemonProcess.PidDirectory, recursive: true);
        }
    }
}
