namespace Vio4wd.Zmq;

/// <summary>Where and how a service is served: its endpoint, its CURVE settings and what makes an ipc:// socket file private.</summary>
public sealed record ZmqBinding(ZmqEndpoint Endpoint, ZmqSecurity Security, Action<string> SecureSocketFile);
