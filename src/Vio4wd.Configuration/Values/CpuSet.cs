using System.Collections;

namespace Vio4wd.Configuration;

/// <summary>An ordered set of CPU ids.</summary>
public sealed class CpuSet : IReadOnlyCollection<int>, IEquatable<CpuSet>
{
    private readonly SortedSet<int> _cpus;

    public CpuSet(IEnumerable<int> cpus)
    {
        _cpus = new SortedSet<int>(cpus);
    }

    public int Count => _cpus.Count;

    public bool Contains(int cpu) => _cpus.Contains(cpu);

    public IEnumerator<int> GetEnumerator() => _cpus.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public bool Equals(CpuSet? other) => other is not null && _cpus.SetEquals(other._cpus);

    public override bool Equals(object? obj) => Equals(obj as CpuSet);

    public override int GetHashCode() => _cpus.Aggregate(17, (hash, cpu) => (hash * 31) + cpu);

    /// <summary>The list form ("1,2,5"), as DPDK's <c>-l</c> and the config file accept it.</summary>
    public override string ToString() => string.Join(',', _cpus);
}
