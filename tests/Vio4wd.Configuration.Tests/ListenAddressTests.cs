
namespace Vio4wd.Configuration.Tests;

public class ListenAddressTests
{
    [TestCase("9723", "127.0.0.1:9723", Description = "a bare port is loopback only")]
    [TestCase("0.0.0.0:9723", "0.0.0.0:9723")]
    [TestCase("10.1.2.3:80", "10.1.2.3:80")]
    [TestCase("[10.1.2.3]:80", "10.1.2.3:80", Description = "brackets around IPv4 too, for [$(POD_IP)]")]
    [TestCase("[::1]:9723", "[::1]:9723")]
    [TestCase("[fd00::7]:1", "[fd00::7]:1")]
    [TestCase("localhost:9723", "127.0.0.1:9723")]
    public void Accepts(string text, string bound) =>
        Assert.That(ListenAddress.Parse(text, out string problem)?.ToString(), Is.EqualTo(bound), problem);

    [TestCase("0", "port from 1 to 65535")]
    [TestCase("65536", "port from 1 to 65535")]
    [TestCase("x:80", "\"x\" is not an IP address")]
    [TestCase("metrics.example.org:80", "is not an IP address")]
    [TestCase("fd00::7:9723", "write an IPv6 address in brackets")]
    [TestCase(":9723", "\"\" is not an IP address")]
    [TestCase("9723 ", "port from 1 to 65535")]
    public void Refuses_with_the_problem_named(string text, string problem)
    {
        Assert.That(ListenAddress.Parse(text, out string why), Is.Null);
        Assert.That(why, Does.Contain(problem));
    }
}
