namespace Vio4wd.Sources.Zmq;

/// <summary>
/// The original's port-control error codes, named, with the function name each operation reports
/// as the error's source. The numbers are the wire format clients check (os-vif's plug accepts
/// 0 and 1 from the script on top): they never change, and mean different things per operation.
/// </summary>
internal static class PortControlErrors
{
    /// <summary>ADD of one VF (virtio_forwarder_add_vf2()) and of a bond (virtio_forwarder_bond_add()).</summary>
    internal static class Add
    {
        public const string Source = "virtio_forwarder_add_vf2()";
        public const string BondSource = "virtio_forwarder_bond_add()";
        public const int RelayOutOfRange = 1;

        /// <summary>The VF is another relay's, or attaching it failed.</summary>
        public const int DeviceUnavailable = 2;
        public const int BondMemberInUse = 3;
        public const int BondAttachFailed = 5;

        /// <summary>The relay has a device already (from port control or another source).</summary>
        public const int RelayHasDevice = 8;
    }

    /// <summary>REMOVE (virtio_forwarder_remove_vf2()).</summary>
    internal static class Remove
    {
        public const string Source = "virtio_forwarder_remove_vf2()";
        public const int RelayOutOfRange = 1;
        public const int DetachFailed = 2;

        /// <summary>The relay's device is not the one named, or not port control's to take.</summary>
        public const int NotThatDevice = 3;
        public const int NothingThere = 4;
    }

    /// <summary>ADD_SOCK (virtio_add_sock_dev_pair()): the relay is the lowest free one.</summary>
    internal static class AddSock
    {
        public const string Source = "virtio_add_sock_dev_pair()";
        public const int NoPath = -1;
        public const int SocketInUse = 1;
        public const int NoFreeRelay = 2;
        public const int AttachFailed = 3;
        public const int BondAttachFailed = 4;
        public const int SocketFailed = 5;

        /// <summary>-EEXIST: the device is another relay's.</summary>
        public const int DeviceInUse = -17;
    }

    /// <summary>REMOVE_SOCK (virtio_remove_sock_dev_pair()).</summary>
    internal static class RemoveSock
    {
        public const string Source = "virtio_remove_sock_dev_pair()";
        public const int NothingNamed = -1;
        public const int UnknownSocket = 1;
        public const int NotThatDevice = 2;
        public const int SocketStillThere = 3;
        public const int DeviceStillAttached = 4;
    }

    /// <summary>QUERY_PCI (virtio_query_pci()).</summary>
    internal static class Query
    {
        public const string Source = "virtio_query_pci()";
        public const int UnknownSocket = 2;
    }
}
