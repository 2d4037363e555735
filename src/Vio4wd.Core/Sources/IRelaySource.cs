namespace Vio4wd.Core.Sources;

/// <summary>
/// A source of desired state (static configuration, OVSDB, the file monitor, ZMQ port
/// control): it turns its input into relay claims and publishes them through its
/// <see cref="SourceContext"/>, never touching the dataplane. All configured sources run
/// together; the desired-state store merges them and decides collisions by claim time.
/// </summary>
public interface IRelaySource
{
    /// <summary>The source's name: its slice of the desired state, and what <c>vio4wdctl</c> shows.</summary>
    string Name { get; }

    /// <summary>
    /// Follows the input until cancelled. Throwing is a fault: the host logs it and runs the
    /// source again after a backoff; the source's last published slice stays in force meanwhile.
    /// </summary>
    Task RunAsync(SourceContext context, CancellationToken cancellationToken);
}
