using System.Reflection;
using System.Runtime.InteropServices;
using Vio4wd.Dataplane.Native;

namespace Vio4wd.Dataplane.Tests;

/// <summary>
/// The C# mirrors of the C ABI's structs have the library's field offsets and sizes (the
/// library says where each field lies), so a change on one side alone fails here, not in a
/// relay's counters.
/// </summary>
public class NativeLayoutTests
{
    private static readonly Dictionary<string, Type> Mirrors = new()
    {
        ["vio4wd_options"] = typeof(NativeOptions),
        ["vio4wd_direction_stats"] = typeof(NativeDirectionStats),
        ["vio4wd_relay_info"] = typeof(NativeRelayInfo),
        ["vio4wd_worker_info"] = typeof(NativeWorkerInfo),
        ["vio4wd_event"] = typeof(NativeEvent),
    };

    private static List<(string Type, string Field, uint Offset, uint Size)> LibraryLayout()
    {
        nint table = NativeMethods.Layout(out uint count);
        int entry = Marshal.SizeOf<NativeMethods.FieldLayout>();
        return [.. Enumerable.Range(0, (int)count).Select(i => Marshal.PtrToStructure<NativeMethods.FieldLayout>(table + (i * entry))).Select(e =>
            (Marshal.PtrToStringUTF8(e.Type)!, Marshal.PtrToStringUTF8(e.Field)!, e.Offset, e.Size))];
    }

    [Test]
    public void Every_struct_shared_with_the_library_has_its_size_and_field_offsets()
    {
        List<(string Type, string Field, uint Offset, uint Size)> layout = LibraryLayout();
        Assert.That(layout.Select(e => e.Type).Distinct(), Is.EquivalentTo(Mirrors.Keys), "every shared struct has a mirror");
        Assert.Multiple(() =>
        {
            foreach ((string cType, Type mirror) in Mirrors)
            {
                var fields = layout.Where(e => e.Type == cType).ToList();
                Assert.That((uint)Marshal.SizeOf(mirror), Is.EqualTo(fields.Single(f => f.Field.Length == 0).Size), $"sizeof(struct {cType})");
                FieldInfo[] mine = mirror.GetFields(BindingFlags.Public | BindingFlags.Instance);
                var theirs = fields.Where(f => f.Field.Length > 0).ToList();
                Assert.That(mine, Has.Length.EqualTo(theirs.Count), $"struct {cType}: fields {string.Join(", ", theirs.Select(f => f.Field))}");
                foreach ((FieldInfo field, (string _, string name, uint offset, uint size)) in mine.Zip(theirs))
                {
                    Assert.That(((uint)Marshal.OffsetOf(mirror, field.Name), (uint)Marshal.SizeOf(field.FieldType)), Is.EqualTo((offset, size)),
                        $"{mirror.Name}.{field.Name} mirrors {cType}.{name}");
                }
            }
        });
    }
}
