using System.Buffers;

namespace Vio4wd.Ovsdb.Protocol;

/// <summary>
/// Finds where the next top-level JSON object ends in a stream of concatenated objects with no
/// delimiter, as OVSDB sends them. It counts braces and brackets outside strings (minding
/// escapes) and keeps its place between reads, so bytes are examined once however the object
/// arrives. UTF-8 continuation bytes never look like ASCII, so bytes are enough.
/// </summary>
internal sealed class JsonObjectScanner
{
    private long _scanned;
    private int _depth;
    private bool _inString;
    private bool _escaped;

    /// <summary>
    /// The length of the prefix of <paramref name="buffer"/> that holds leading whitespace and one
    /// complete object, or -1 while the object is incomplete. <paramref name="buffer"/> must start
    /// where the previous object ended and only grow between calls.
    /// </summary>
    /// <exception cref="InvalidDataException">Something other than an object at the top level.</exception>
    public long FindEnd(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        reader.Advance(_scanned);
        while (reader.TryRead(out byte b))
        {
            if (_inString)
            {
                if (_escaped)
                {
                    _escaped = false;
                }
                else if (b == (byte)'\\')
                {
                    _escaped = true;
                }
                else if (b == (byte)'"')
                {
                    _inString = false;
                }

                continue;
            }

            switch (b)
            {
                case (byte)'"':
                    _inString = true;
                    break;
                case (byte)'{':
                case (byte)'[':
                    if (_depth == 0 && b == (byte)'[')
                    {
                        throw new InvalidDataException("a JSON-RPC message must be an object, not an array");
                    }

                    _depth++;
                    break;
                case (byte)'}':
                case (byte)']':
                    if (--_depth == 0)
                    {
                        long end = reader.Consumed;
                        _scanned = 0;
                        return end;
                    }

                    break;
                case (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n':
                    break;
                default:
                    if (_depth == 0)
                    {
                        throw new InvalidDataException($"unexpected byte 0x{b:x2} between JSON-RPC messages");
                    }

                    break;
            }

            if (_depth < 0)
            {
                throw new InvalidDataException("unbalanced '}' or ']' between JSON-RPC messages");
            }
        }

        _scanned = reader.Consumed;
        return -1;
    }
}
