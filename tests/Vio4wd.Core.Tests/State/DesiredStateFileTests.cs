using Vio4wd.Contracts;
using Vio4wd.Core.Dataplane;
using Vio4wd.Core.Relays;
using Vio4wd.Core.State;
using Vio4wd.Testing;

namespace Vio4wd.Core.Tests.State;

/// <summary>
/// The state file comes back as it was written, and is read as untrusted input: anything it
/// should not hold refuses the whole file, with the reason, and nothing of it is used.
/// </summary>
public class DesiredStateFileTests
{
    private const string Sockets = "/run/vio4wd-test-sockets";

    private static readonly StateFileRules Rules = new(32, AllowRuntimeDevargs: false, path => Path.GetDirectoryName(path) == Sockets);

    private static readonly HeldClaim[] Claims =
    [
        new("static", new RelayClaim("relay 0", "the configuration", new RelaySpec(0, DeviceAttachment.Of("net_null0"), new VhostSocketSpec("/tmp/anywhere/s0.sock", VhostMode.Server))), 0),
        new("zmq", new RelayClaim("relay 1", "port control: bond0", new RelaySpec(1, DeviceAttachment.Bond(BondMode.Lacp8023ad, ["0000:03:02.1", "0000:03:02.2"]),
            new VhostSocketSpec($"{Sockets}/vhu1", VhostMode.Client), new CpuPins(2, null)), "bond0"), 3),
        new("ovsdb", new RelayClaim("6f1c7a34-0000-4000-8000-000000000001", "interface vhu-b", new RelaySpec(3, DeviceAttachment.Of("0000:03:02.3"), null)), 5),
    ];

    [Test]
    public void What_is_written_is_read_back_the_same()
    {
        using var dir = new TempDirectory();
        DesiredStateFile.Write(dir.Path, Claims);
        IReadOnlyList<HeldClaim> read = DesiredStateFile.Read(dir.Path, Rules, out string? problem);
        Assert.Multiple(() =>
        {
            Assert.That(problem, Is.Null);
            Assert.That(read, Is.EqualTo(Claims));
            Assert.That(new FileInfo(Path.Combine(dir.Path, DesiredStateFile.FileName)).UnixFileMode, Is.EqualTo(UnixFileMode.UserRead | UnixFileMode.UserWrite));
        });
    }

    [Test]
    public void No_file_is_no_claims_and_no_problem()
    {
        using var dir = new TempDirectory();
        Assert.That(DesiredStateFile.Read(dir.Path, Rules, out string? problem), Is.Empty);
        Assert.That(problem, Is.Null);
    }

    private static IEnumerable<TestCaseData> Hostile()
    {
        TestCaseData Case(string name, string json, string reason) => new TestCaseData(json, reason).SetName(name);
        const string Good = """{"source":"zmq","key":"relay 1","subject":"port control: 0000:03:02.1","name":"0000:03:02.1","order":1,"relay":1,"device":{"devices":["0000:03:02.1"],"bondMode":null},"socket":{"path":"/run/vio4wd-test-sockets/vhu1","mode":"client"},"pins":null}""";
        string With(string from, string to) => "{\"version\":1,\"claims\":[" + Good.Replace(from, to, StringComparison.Ordinal) + "]}";
        yield return Case("cut short", """{"version":1,"claims":[{"source":"zmq","key":""", "is not a state file");
        yield return Case("not JSON", "\u0000\u0001garbage", "is not a state file");
        yield return Case("another version", """{"version":2,"claims":[]}""", "is not a version 1 state file");
        yield return Case("a field we do not know", With("\"pins\":null", "\"pins\":null,\"exec\":\"rm -rf /\""), "is not a state file");
        yield return Case("an unknown source", With("\"source\":\"zmq\"", "\"source\":\"evil\""), "unknown source 'evil'");
        yield return Case("a relay out of range", With("\"relay\":1", "\"relay\":32"), "relay 32 is not below VIRTIOFWD_MAX_RELAYS (32)");
        yield return Case("a negative relay", With("\"relay\":1", "\"relay\":-1"), "relay -1 is not below");
        yield return Case("devargs from a runtime source", With("\"0000:03:02.1\"]", "\"net_pcap0,tx_pcap=/etc/shadow\"]"), "is not one a runtime source may name");
        yield return Case("a device DPDK chokes on", With("\"0000:03:02.1\"]", "\"bus\"]"), "device 'bus'");
        yield return Case("nine bond members", With("[\"0000:03:02.1\"]", "[" + string.Join(',', Enumerable.Range(0, 9).Select(i => $"\"0000:03:03.{i % 8}\"")) + "]"), "too many");
        yield return Case("a bond mode DPDK lacks", With("\"bondMode\":null", "\"bondMode\":9"), "bond mode 9 is not 0-6");
        yield return Case("a socket elsewhere", With("/run/vio4wd-test-sockets/vhu1", "/var/run/dbus/system_bus_socket"), "is not where runtime sources may have sockets");
        yield return Case("a way out of the socket directory", With("/run/vio4wd-test-sockets/vhu1", "/run/vio4wd-test-sockets/../../etc/x"), "absolute path");
        yield return Case("a relative socket", With("/run/vio4wd-test-sockets/vhu1", "vhu1"), "absolute path");
        yield return Case("a socket path beyond sun_path", With("/run/vio4wd-test-sockets/vhu1", "/run/vio4wd-test-sockets/" + new string('x', 100)), "absolute path");
        yield return Case("a socket mode we do not know", With("\"mode\":\"client\"", "\"mode\":\"both\""), "neither server nor client");
        yield return Case("control characters in a name", With("\"name\":\"0000:03:02.1\"", "\"name\":\"a\\u001b[2J\""), "control characters");
        yield return Case("a negative order", With("\"order\":1", "\"order\":-5"), "order -5 is out of range");
        yield return Case("pins on a CPU that cannot be", With("\"pins\":null", "\"pins\":[1,99999]"), "pins are two CPUs");
        yield return Case("one claim twice", "{\"version\":1,\"claims\":[" + Good + "," + Good + "]}", "claims relay 1 twice");
        yield return Case("more claims than relays could have", "{\"version\":1,\"claims\":[" + string.Join(',', Enumerable.Repeat(Good, 257)) + "]}", "more than 256");
        yield return Case("no claims list", """{"version":1}""", "is not a version 1 state file");
    }

    [TestCaseSource(nameof(Hostile))]
    public void A_file_it_should_not_hold_is_refused_whole_with_the_reason(string json, string reason)
    {
        using var dir = new TempDirectory();
        File.WriteAllText(Path.Combine(dir.Path, DesiredStateFile.FileName), json);
        IReadOnlyList<HeldClaim> read = DesiredStateFile.Read(dir.Path, Rules, out string? problem);
        Assert.That(read, Is.Empty);
        Assert.That(problem, Does.Contain(reason));
    }

    [Test]
    public void A_link_a_world_writable_file_a_fifo_and_a_huge_file_are_refused()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, DesiredStateFile.FileName);
        DesiredStateFile.Write(dir.Path, Claims);
        string real = Path.Combine(dir.Path, "elsewhere.json");
        File.Move(path, real);
        File.CreateSymbolicLink(path, real);
        Assert.That(Problem(), Does.Contain("is a symbolic link"));

        File.Delete(path);
        File.Copy(real, path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherWrite);
        Assert.That(Problem(), Does.Contain("is writable by others"));

        File.Delete(path);
        using (var huge = File.Create(path))
        {
            huge.SetLength(DesiredStateFile.MaxBytes + 1);
        }

        Assert.That(Problem(), Does.Contain("more than"));

        File.Delete(path);
        Assert.That(Mkfifo(path), Is.Zero);
        Assert.That(Problem(), Does.Contain("is not a regular file"), "opened without blocking, refused without reading");

        string? Problem()
        {
            Assert.That(DesiredStateFile.Read(dir.Path, Rules, out string? problem), Is.Empty);
            return problem;
        }
    }

    [Test]
    public void A_refused_file_is_set_aside_and_a_write_never_follows_a_planted_link()
    {
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, DesiredStateFile.FileName);
        File.WriteAllText(path, "garbage");
        string? aside = DesiredStateFile.SetAside(dir.Path, new DateTimeOffset(2026, 12, 7, 23, 0, 0, TimeSpan.Zero));
        Assert.That(aside, Is.EqualTo(path + ".refused-20261207T230000"));
        Assert.That(File.ReadAllText(aside!), Is.EqualTo("garbage"));

        // A link where the new file is made, and one at the file itself: neither target is written.
        string target = Path.Combine(dir.Path, "target");
        File.WriteAllText(target, "untouched");
        File.CreateSymbolicLink(path + ".new", target);
        File.CreateSymbolicLink(path, target);
        DesiredStateFile.Write(dir.Path, Claims);
        Assert.Multiple(() =>
        {
            Assert.That(File.ReadAllText(target), Is.EqualTo("untouched"));
            Assert.That(new FileInfo(path).LinkTarget, Is.Null, "the link was replaced by the file");
            Assert.That(DesiredStateFile.Read(dir.Path, Rules, out _), Is.EqualTo(Claims));
        });
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo(string path, uint mode = 0b110_000_000);
}
