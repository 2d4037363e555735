namespace Vio4wd.Ctl.Output;

/// <summary>Columns padded to their widest cell, as <c>kubectl get</c> prints them.</summary>
internal static class TextTable
{
    public static string Format(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows)
    {
        var all = new List<IReadOnlyList<string>> { header };
        all.AddRange(rows);
        int[] widths = [.. Enumerable.Range(0, header.Count).Select(i => all.Max(row => row[i].Length))];
        return string.Join('\n', all.Select(row => string.Join("   ", row.Select((cell, i) => cell.PadRight(widths[i]))).TrimEnd()));
    }
}
