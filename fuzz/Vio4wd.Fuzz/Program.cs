using SharpFuzz;
using Vio4wd.Fuzz;

// vio4wd-fuzz TARGET             run under afl-fuzz (persistent mode), input on stdin/shared memory
// vio4wd-fuzz TARGET FILE|DIR... run the target once per file (replaying a corpus or a crash)
// vio4wd-fuzz --list             the targets
if (args.Length == 0 || args[0] == "--list" || !FuzzTargets.All.TryGetValue(args[0], out Action<byte[]>? target))
{
    Console.WriteLine(string.Join('\n', FuzzTargets.All.Keys));
    return args.Length > 0 && args[0] == "--list" ? 0 : 2;
}

if (args.Length > 1)
{
    int runs = 0;
    foreach (string file in args[1..].SelectMany(a => Directory.Exists(a) ? Directory.EnumerateFiles(a) : [a]).Order(StringComparer.Ordinal))
    {
        // The name first: an input that takes the process down is named by the last line.
        Console.Error.WriteLine(file);
        target(File.ReadAllBytes(file));
        runs++;
    }

    Console.WriteLine($"{args[0]}: {runs} inputs replayed");
    return 0;
}

Fuzzer.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
