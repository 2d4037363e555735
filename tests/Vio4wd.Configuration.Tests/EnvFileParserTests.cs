using Vio4wd.Configuration;


namespace Vio4wd.Configuration.Tests;

public class EnvFileParserTests
{
    private static (EnvFile File, ConfigDiagnostics Diagnostics) Parse(string text)
    {
        var diagnostics = new ConfigDiagnostics();
        return (EnvFileParser.Parse(text, "f", diagnostics), diagnostics);
    }

    private static IReadOnlyList<string> ValuesOf(string text, string name)
    {
        (EnvFile file, ConfigDiagnostics diagnostics) = Parse(text);
        Assert.That(diagnostics.Errors, Is.Empty);
        return file.Assignments.Last(a => a.Name == name).Values;
    }

    [TestCase("A=1", "1")]
    [TestCase("A='x y'", "x y")]
    [TestCase("A=\"x y\"", "x y")]
    [TestCase("A=\"say \\\"hi\\\" \\$HOME\"", "say \"hi\" $HOME")]
    [TestCase("A='no $expansion here'", "no $expansion here")]
    [TestCase("A=x\\ y", "x y")]
    [TestCase("export A=1", "1")]
    [TestCase("A=1 # trailing comment", "1")]
    [TestCase("A=a#b", "a#b")]
    [TestCase("A=ipc:///var/run/virtio-forwarder/port_control", "ipc:///var/run/virtio-forwarder/port_control")]
    [TestCase("A=", "")]
    [TestCase("A=\"\"", "")]
    [TestCase("B=/tmp\nA=$B/x", "/tmp/x")]
    [TestCase("B=/tmp\nA=\"${B}/x\"", "/tmp/x")]
    [TestCase("A=1;", "1")]
    [TestCase("A='multi\nline'", "multi\nline")]
    [TestCase("A=first\nA=second", "second")]
    [TestCase("A=\"a\"'b'c", "abc")]
    [TestCase("A=1\r\n", "1")]
    public void Reads_scalar_values_as_bash_would(string text, string expected)
    {
        Assert.That(ValuesOf(text, "A"), Is.EqualTo(new[] { expected }));
    }

    [TestCase("A=(x)", new[] { "x" })]
    [TestCase("A=(x y z)", new[] { "x", "y", "z" })]
    [TestCase("A=( 'x y' \"z\" )", new[] { "x y", "z" })]
    [TestCase("A=(\n  x # first\n  # a comment line\n  y\n)", new[] { "x", "y" })]
    [TestCase("A=()", new string[0])]
    public void Reads_bash_arrays(string text, string[] expected)
    {
        (EnvFile file, ConfigDiagnostics diagnostics) = Parse(text);
        Assert.Multiple(() =>
        {
            Assert.That(diagnostics.Errors, Is.Empty);
            Assert.That(file.Assignments.Single().IsArray, Is.True);
            Assert.That(file.Assignments.Single().Values, Is.EqualTo(expected));
        });
    }

    [Test]
    public void Records_the_line_of_each_assignment_and_skips_comments()
    {
        (EnvFile file, _) = Parse("# comment\n\nA=1\n  # indented comment\nB=(\nx\ny\n)\nC=3\n");
        Assert.That(file.Assignments.Select(a => (a.Name, a.Line)), Is.EqualTo(new[] { ("A", 3), ("B", 5), ("C", 9) }));
    }

    [TestCase("A = 1", "f:1: A: no spaces are allowed around '=' (bash would run 'A' as a command)")]
    [TestCase("A=x y", "f:1: A: unexpected 'y' after the value; quote values that contain spaces")]
    [TestCase("A='open", "f:1: A: missing closing single quote")]
    [TestCase("A=\"open", "f:1: A: missing closing double quote")]
    [TestCase("A=(x y", "f:1: A: array is missing its closing ')'")]
    [TestCase("A=(x;y)", "f:1: A: unexpected ';' in an array")] // hung, allocating without end (fuzzing)
    [TestCase("A=$(rm -rf /)", "f:1: A: command substitution is not supported")]
    [TestCase("A=`id`", "f:1: A: command substitution is not supported")]
    [TestCase("A=${B:-x}", "f:1: A: only plain ${NAME} expansions are supported")]
    [TestCase("A=x|y", "f:1: A: unexpected '|'; quote the value if it contains shell characters")]
    [TestCase("echo hello", "f:1: expected NAME=value, found 'echo hello'")]
    [TestCase("A+=x", "f:1: A: '+=' is not supported; assign the whole value")]
    public void Reports_what_bash_would_not_treat_as_a_plain_assignment(string text, string error)
    {
        (EnvFile file, ConfigDiagnostics diagnostics) = Parse(text);
        Assert.Multiple(() =>
        {
            Assert.That(diagnostics.Errors, Is.EqualTo(new[] { error }));
            Assert.That(file.Assignments, Is.Empty);
        });
    }

    [Test]
    public void Keeps_reading_after_an_error_and_reports_every_one()
    {
        (EnvFile file, ConfigDiagnostics diagnostics) = Parse("A=1\nB = 2\nC=3\nD=x y\nE=5\n");
        Assert.Multiple(() =>
        {
            Assert.That(file.Assignments.Select(a => a.Name), Is.EqualTo(new[] { "A", "C", "E" }));
            Assert.That(diagnostics.Errors, Has.Count.EqualTo(2));
            Assert.That(diagnostics.Errors[0], Does.StartWith("f:2:"));
            Assert.That(diagnostics.Errors[1], Does.StartWith("f:4:"));
        });
    }

    [Test]
    public void Warns_about_references_to_variables_not_set_earlier()
    {
        (EnvFile file, ConfigDiagnostics diagnostics) = Parse("A=$NOPE/x");
        Assert.Multiple(() =>
        {
            Assert.That(file.Assignments.Single().Values, Is.EqualTo(new[] { "/x" }));
            Assert.That(diagnostics.Warnings, Is.EqualTo(new[] { "f:1: A: $NOPE is not set earlier in the file and expands to nothing" }));
        });
    }

    [TestCase("--no-huge -m 1024", new[] { "--no-huge", "-m", "1024" })]
    [TestCase("--vdev 'net_tap0,iface=a b'", new[] { "--vdev", "net_tap0,iface=a b" })]
    [TestCase("  ", new string[0])]
    public void Splits_words_with_the_same_quoting(string text, string[] expected)
    {
        Assert.That(EnvFileParser.SplitWords(text, out _), Is.EqualTo(expected));
    }
}
