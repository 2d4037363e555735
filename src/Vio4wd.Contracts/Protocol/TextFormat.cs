using System.Globalization;
using System.Text;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Vio4wd.Contracts.Protocol;

/// <summary>
/// Protobuf text format of a flat message, as Python's <c>text_format</c> prints it (the
/// original's tools print responses that way): set fields in field-number order, enums by name,
/// strings quoted with C escapes. Nested messages are not needed by the tools that use it.
/// </summary>
public static class TextFormat
{
    public static string Format(IMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = new StringBuilder();
        foreach (FieldDescriptor field in message.Descriptor.Fields.InFieldNumberOrder())
        {
            if (field.IsRepeated)
            {
                foreach (object item in (System.Collections.IEnumerable)field.Accessor.GetValue(message))
                {
                    text.Append(CultureInfo.InvariantCulture, $"{field.Name}: {Value(field, item)}\n");
                }
            }
            else if (field.Accessor.HasValue(message))
            {
                text.Append(CultureInfo.InvariantCulture, $"{field.Name}: {Value(field, field.Accessor.GetValue(message))}\n");
            }
        }

        return text.ToString();
    }

    private static string Value(FieldDescriptor field, object value) => field.FieldType switch
    {
        FieldType.Enum => field.EnumType.FindValueByNumber((int)value)?.Name ?? Convert.ToString((int)value, CultureInfo.InvariantCulture),
        FieldType.String => Quote((string)value),
        FieldType.Bool => (bool)value ? "true" : "false",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };

    private static string Quote(string value)
    {
        var quoted = new StringBuilder("\"");
        foreach (byte b in Encoding.UTF8.GetBytes(value))
        {
            quoted.Append(b switch
            {
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                (byte)'\t' => "\\t",
                (byte)'\'' => "\\'",
                < 0x20 or >= 0x7f => $"\\{Convert.ToString(b, 8).PadLeft(3, '0')}",
                _ => ((char)b).ToString(),
            });
        }

        return quoted.Append('"').ToString();
    }
}
