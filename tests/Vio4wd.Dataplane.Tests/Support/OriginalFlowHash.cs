using System.Buffers.Binary;
using System.Numerics;

namespace Vio4wd.Dataplane.Tests;

/// <summary>
/// The original virtio-forwarder's guest-queue choice (calc_eth_header_hash: rte_jhash_32b with
/// seed 0xdeadbee5 over addresses, protocol and raw ports), written independently of our C, so
/// a test can tell whether flows land where the original put them.
/// </summary>
public static class OriginalFlowHash
{
    public static int QueueOf(byte[] frame, int enabledQueues)
    {
        uint h = Hash(frame);
        int k = BitOperations.IsPow2(enabledQueues) ? (int)(h & (uint)(enabledQueues - 1)) : (int)(h % (uint)enabledQueues);
        return k; // queues 0..n-1 all enabled: the k-th enabled queue is k
    }

    public static uint Hash(byte[] frame)
    {
        // IPv4 + UDP only: what the tests send.
        int ihl = (frame[14] & 0x0f) * 4;
        uint[] words =
        [
            BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(26)),
            BinaryPrimitives.ReadUInt32LittleEndian(frame.AsSpan(30)),
            frame[23],
            ((uint)BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(14 + ihl + 2)) << 16)
                + BinaryPrimitives.ReadUInt16LittleEndian(frame.AsSpan(14 + ihl)),
        ];
        return Jhash32b(words, 0xdeadbee5);
    }

    private static uint Jhash32b(uint[] k, uint initval)
    {
        uint a, b, c;
        a = b = c = 0xdeadbeef + ((uint)k.Length << 2) + initval;
        int i = 0;
        int length = k.Length;
        while (length > 3)
        {
            a += k[i];
            b += k[i + 1];
            c += k[i + 2];
            Mix(ref a, ref b, ref c);
            i += 3;
            length -= 3;
        }

        switch (length)
        {
            case 3: c += k[i + 2]; b += k[i + 1]; a += k[i]; break;
            case 2: b += k[i + 1]; a += k[i]; break;
            case 1: a += k[i]; break;
            default: return c;
        }

        Final(ref a, ref b, ref c);
        return c;
    }

    private static void Mix(ref uint a, ref uint b, ref uint c)
    {
        a -= c; a ^= BitOperations.RotateLeft(c, 4); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 6); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 8); b += a;
        a -= c; a ^= BitOperations.RotateLeft(c, 16); c += b;
        b -= a; b ^= BitOperations.RotateLeft(a, 19); a += c;
        c -= b; c ^= BitOperations.RotateLeft(b, 4); b += a;
    }

    private static void Final(ref uint a, ref uint b, ref uint c)
    {
        c ^= b; c -= BitOperations.RotateLeft(b, 14);
        a ^= c; a -= BitOperations.RotateLeft(c, 11);
        b ^= a; b -= BitOperations.RotateLeft(a, 25);
        c ^= b; c -= BitOperations.RotateLeft(b, 16);
        a ^= c; a -= BitOperations.RotateLeft(c, 4);
        b ^= a; b -= BitOperations.RotateLeft(a, 14);
        c ^= b; c -= BitOperations.RotateLeft(b, 24);
    }
}
