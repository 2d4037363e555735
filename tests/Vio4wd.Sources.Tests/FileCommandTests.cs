using System.Text;
using Vio4wd.Sources.Files;

namespace Vio4wd.Sources.Tests;

public class FileCommandTests
{
    [TestCase("add_port eth5", true, "eth5")]
    [TestCase("del_port eth5\n", false, "eth5")]
    [TestCase("  add_port\tens1f0v3  \n", true, "ens1f0v3")]
    public void Whole_keywords_and_one_netdev_make_a_command(string text, bool add, string netdev) =>
        Assert.That(FileCommand.Parse(Encoding.UTF8.GetBytes(text), out _), Is.EqualTo(new FileCommand(add, netdev)));

    [TestCase("", "the command file is empty; expected add_port NETDEV or del_port NETDEV")]
    [TestCase(" \n\t", "the command file is empty; expected add_port NETDEV or del_port NETDEV")]
    [TestCase("apple eth5", "'apple eth5' is not a command; expected add_port NETDEV or del_port NETDEV")]
    [TestCase("add eth5", "'add eth5' is not a command; expected add_port NETDEV or del_port NETDEV")]
    [TestCase("add_portx eth5", "'add_portx eth5' is not a command; expected add_port NETDEV or del_port NETDEV")]
    [TestCase("add_port", "'add_port' is not a command; expected add_port NETDEV or del_port NETDEV")]
    [TestCase("add_port eth5 eth6", "'add_port eth5 eth6' is not a command; expected add_port NETDEV or del_port NETDEV")]
    [TestCase("delete eth5 and a very long tail that goes on and on", "'delete eth5 and a very long tail that go...' is not a command; expected add_port NETDEV or del_port NETDEV")]
    public void Anything_else_is_refused_with_what_was_wrong(string text, string error)
    {
        Assert.That(FileCommand.Parse(Encoding.UTF8.GetBytes(text), out string problem), Is.Null);
        Assert.That(problem, Is.EqualTo(error));
    }

    [Test]
    public void Oversized_and_binary_files_are_refused()
    {
        Assert.Multiple(() =>
        {
            Assert.That(FileCommand.Parse(new byte[129], out string big), Is.Null);
            Assert.That(big, Is.EqualTo("the command file has 129 bytes; a command has at most 128"));
            Assert.That(FileCommand.Parse([0x61, 0xff, 0xfe], out string binary), Is.Null);
            Assert.That(binary, Is.EqualTo("the command file is not text"));
        });
    }
}
