using Vio4wd.Contracts;
using Vio4wd.Core.Dataplane;
using Vio4wd.Testing;

namespace Vio4wd.Dataplane.Tests;

/// <summary>
/// The VM side comes and goes; the relay keeps its VF and picks traffic up again each time.
/// The VF is a net_null port (its RX produces frames without end, its TX swallows them); the VM
/// is a testpmd echoing whatever it receives, so both directions carry traffic.
/// </summary>
[TestFixture]
[NonParallelizable]
public class RelayReconnectTests
{
    private const int Restarts = 20;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static NativeDataplane Dataplane => DataplaneFixture.Dataplane;

    [Test]
    public Task Server_mode_traffic_resumes_after_each_of_20_vm_restarts() => RestartVmRepeatedlyAsync(relay: 5, VhostMode.Server);

    [Test]
    public Task Client_mode_reconnects_and_traffic_resumes_after_each_of_20_vm_restarts() => RestartVmRepeatedlyAsync(relay: 6, VhostMode.Client);

    private static async Task RestartVmRepeatedlyAsync(int relay, VhostMode mode)
    {
        using var dir = new TempDirectory();
        string socket = dir.File($"relay{relay}.sock");
        string vdev = $"net_virtio_user0,path={socket}" + (mode == VhostMode.Client ? ",server=1" : string.Empty);
        try
        {
            await Dataplane.RegisterSocketAsync(relay, socket, mode);
            await Dataplane.AttachDeviceAsync(relay, DeviceAttachment.Of($"net_null_r{relay}"));
            for (int round = 0; round < Restarts; round++)
            {
                RelayState before = await Dataplane.GetRelayAsync(relay);
                if (mode == VhostMode.Client)
                {
                    // A killed virtio_user server leaves its socket file, and (unlike QEMU)
                    // does not remove a stale one before listening.
                    File.Delete(socket);
                }

                await using (Testpmd vm = Testpmd.Start([vdev], ["--forward-mode=io", "--nb-cores=1", "--auto-start"]))
                {
                    await Eventually.HoldsAsync(
                        () => Dataplane.GetRelayAsync(relay),
                        s => s.VfToVmStats.TxPackets > before.VfToVmStats.TxPackets + 1000
                            && s.VmToVfStats.TxPackets > before.VmToVfStats.TxPackets + 1000,
                        Patience, $"traffic both ways after VM start {round + 1} ({mode} mode)", () => vm.Output);
                    vm.Kill();
                }

                RelayState down = await Eventually.HoldsAsync(
                    () => Dataplane.GetRelayAsync(relay), s => !s.Vm.Connected, Patience, "the relay to notice the VM is gone");
                Assert.That(down.Device.Attached, Is.True, "the VF stays attached while the VM is away");
            }

            // With the VM gone the VF keeps receiving: those frames are dropped and counted.
            RelayState idle = await Dataplane.GetRelayAsync(relay);
            await Eventually.HoldsAsync(
                () => Dataplane.GetRelayAsync(relay),
                s => s.VfToVmStats.DroppedUnavailablePackets > idle.VfToVmStats.DroppedUnavailablePackets,
                Patience, "drops counted while no VM is connected");
        }
        finally
        {
            await RelayTrafficTests.CleanUpAsync(relay);
        }
    }
}
