namespace Vio4wd.Sources.Files;

/// <summary>
/// One command of the original's file monitor: <c>add_port NETDEV</c> or <c>del_port NETDEV</c>.
/// Whole keywords only (the original took anything starting with "a" for add_port), one command
/// per file, at most 128 bytes as the original read.
/// </summary>
public sealed record FileCommand(bool Add, string Netdev)
{
    public const int MaxBytes = 128;

    public static FileCommand? Parse(ReadOnlySpan<byte> content, out string error)
    {
        error = string.Empty;
        if (content.Length > MaxBytes)
        {
            error = $"the command file has {content.Length} bytes; a command has at most {MaxBytes}";
            return null;
        }

        string text;
        try
        {
            text = new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (System.Text.DecoderFallbackException)
        {
            error = "the command file is not text";
            return null;
        }

        string[] words = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            error = "the command file is empty; expected add_port NETDEV or del_port NETDEV";
            return null;
        }

        if (words[0] is not ("add_port" or "del_port") || words.Length != 2)
        {
            error = $"'{Shorten(text.Trim())}' is not a command; expected add_port NETDEV or del_port NETDEV";
            return null;
        }

        return new FileCommand(words[0] == "add_port", words[1]);
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";
}
