using System.Buffers.Binary;

namespace Vio4wd.Testing;

/// <summary>Reads and writes classic libpcap files (Ethernet, microsecond timestamps).</summary>
public static class Pcap
{
    private const uint Magic = 0xa1b2c3d4;

    public static void Write(string path, IEnumerable<byte[]> frames)
    {
        using var file = File.Create(path);
        Span<byte> header = stackalloc byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
        BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
        BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1); // LINKTYPE_ETHERNET
        file.Write(header);
        uint i = 0;
        Span<byte> record = stackalloc byte[16];
        foreach (byte[] frame in frames)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(record, 1_700_000_000 + i++);
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], 0);
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)frame.Length);
            file.Write(record);
            file.Write(frame);
        }
    }

    public static List<byte[]> Read(string path)
    {
        byte[] data = File.ReadAllBytes(path);
        var frames = new List<byte[]>();
        if (data.Length < 24)
        {
            return frames;
        }

        bool nanos = BinaryPrimitives.ReadUInt32LittleEndian(data) == 0xa1b23c4d;
        if (!nanos && BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic)
        {
            throw new InvalidDataException($"{path} is not a little-endian pcap file");
        }

        int offset = 24;
        while (offset + 16 <= data.Length)
        {
            int length = (int)BinaryPrimitives.ReadUInt32LittleEndian(data.AsSpan(offset + 8));
            offset += 16;
            frames.Add(data.AsSpan(offset, length).ToArray());
            offset += length;
        }

        return frames;
    }

    /// <summary>
    /// Frames of the given sizes, each with a distinct flow (IPv4/UDP), a sequence number and a
    /// pseudo-random payload, so any reordering, truncation or corruption shows.
    /// </summary>
    public static List<byte[]> MakeFrames(int count, Func<int, int> size, int seed, int flows = 1)
    {
        var random = new Random(seed);
        var frames = new List<byte[]>(count);
        for (int i = 0; i < count; i++)
        {
            var frame = new byte[size(i)];
            random.NextBytes(frame);
            MakeUdpHeader(frame, flow: i % flows, seed);
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(42), i);
            frames.Add(frame);
        }

        return frames;
    }

    /// <summary>Sizes cycling through 60..1514 with the edges included.</summary>
    public static int MixedSize(int i) => i switch
    {
        _ when i % 7 == 0 => 60,
        _ when i % 7 == 1 => 1514,
        _ => 60 + (i * 211 % 1455),
    };

    private static void MakeUdpHeader(byte[] frame, int flow, int seed)
    {
        byte[] mac = [0x02, 0x00, 0x00, 0x00, 0x00, (byte)seed];
        mac.CopyTo(frame, 0);
        mac.CopyTo(frame, 6);
        frame[11] = 0x01;
        frame[12] = 0x08; // IPv4
        frame[13] = 0x00;
        frame[14] = 0x45;
        frame[15] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), (ushort)(frame.Length - 14));
        frame[20] = 0;
        frame[21] = 0;
        frame[22] = 64;
        frame[23] = 17; // UDP
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(26), 0x0a000001);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(30), 0x0a000002);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(34), (ushort)(10000 + flow));
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(36), 4789);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(38), (ushort)(frame.Length - 34));
    }
}
