using Vio4wd.Core.Dataplane;

namespace Vio4wd.Core.Tests.Dataplane;

/// <summary>What two readings of a worker's counters say about the time between them.</summary>
public class WorkerLoadTests
{
    private static WorkerLoad Reading(ulong busy, ulong idle, ulong packets) =>
        new(Cpu: 1, NumaNode: 0, Directions: 2, BusyCycles: busy, IdleCycles: idle, Polls: 0, Packets: packets, CyclesPerSecond: 2_000_000_000);

    [Test]
    public void Between_two_readings_gives_the_busy_share_the_packets_and_the_cycles_per_packet()
    {
        WorkerLoad before = Reading(busy: 1_000, idle: 9_000, packets: 10);
        WorkerLoad after = Reading(busy: 61_000, idle: 49_000, packets: 610);
        Assert.Multiple(() =>
        {
            Assert.That(after.BusyFractionSince(before), Is.EqualTo(0.6).Within(1e-9), "60k busy of 100k cycles");
            Assert.That(after.PacketsSince(before), Is.EqualTo(600UL));
            Assert.That(after.BusyCyclesPerPacketSince(before), Is.EqualTo(100.0).Within(1e-9), "60k busy cycles for 600 packets");
        });
    }

    [Test]
    public void Without_packets_or_with_a_counter_gone_back_there_is_no_cost_per_packet()
    {
        WorkerLoad before = Reading(busy: 5_000, idle: 5_000, packets: 100);
        Assert.Multiple(() =>
        {
            Assert.That(Reading(busy: 5_000, idle: 9_000, packets: 100).BusyCyclesPerPacketSince(before), Is.Null, "idle: nothing moved");
            Assert.That(Reading(busy: 1_000, idle: 1_000, packets: 10).BusyCyclesPerPacketSince(before), Is.Null, "a restarted dataplane");
            Assert.That(Reading(busy: 1_000, idle: 1_000, packets: 10).BusyFractionSince(before), Is.Zero);
        });
    }
}
