namespace Vio4wd.Core.Dataplane;

/// <summary>Choices fixed for the life of the dataplane.</summary>
/// <param name="Jumbo">9000-byte MTU on VFs and 9182-byte mbufs.</param>
/// <param name="MergeableBuffers">Offer VIRTIO_NET_F_MRG_RXBUF to guests.</param>
/// <param name="Tso">Offer HOST_TSO4/6 to guests and enable TSO on VFs.</param>
/// <param name="SocketUid">Server-mode sockets are chowned to this user; null keeps ours.</param>
/// <param name="SocketGid">Server-mode sockets are chowned to this group; null keeps ours.</param>
/// <param name="MbufsPerRelay">Size of each relay's mbuf pool; null is 2047 per VF port.</param>
/// <param name="IdleSleepMaxUs">Longest back-off sleep of a worker whose relays are idle, in microseconds; 0 always polls.</param>
/// <param name="MaxRelays">Relay ids are 0..MaxRelays-1; null is what the DPDK build allows.</param>
public sealed record DataplaneOptions(
    bool Jumbo = false,
    bool MergeableBuffers = false,
    bool Tso = false,
    int? SocketUid = null,
    int? SocketGid = null,
    int? MbufsPerRelay = null,
    int IdleSleepMaxUs = 0,
    int? MaxRelays = null);
