namespace Vio4wd.Configuration;

/// <summary>One <c>NAME=value</c> or <c>NAME=(a b c)</c> assignment of an environment file.</summary>
public sealed record EnvAssignment(string Name, IReadOnlyList<string> Values, bool IsArray, int Line);

/// <summary>The assignments of an <c>/etc/default/virtioforwarder</c>-format file, in file order.</summary>
public sealed record EnvFile(string Path, IReadOnlyList<EnvAssignment> Assignments);
