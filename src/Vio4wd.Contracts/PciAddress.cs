using System.Globalization;
using System.Text.RegularExpressions;

namespace Vio4wd.Contracts;

/// <summary>
/// A PCI address (domain:bus:slot.function). Compared numerically, so "0000:0A:10.1",
/// "0a:10.1" and "0000:0a:10.1" are the same device; printed in sysfs' lower-case form.
/// </summary>
public readonly partial record struct PciAddress(uint Domain, uint Bus, uint Slot, uint Function)
{
    public static bool TryParse(string text, out PciAddress address)
    {
        Match m = Pattern().Match(text);
        address = default;
        if (!m.Success)
        {
            return false;
        }

        uint domain = m.Groups["domain"].Success ? Hex(m.Groups["domain"].Value) : 0;
        address = new PciAddress(domain, Hex(m.Groups["bus"].Value), Hex(m.Groups["slot"].Value), Hex(m.Groups["function"].Value));
        return address.Slot <= 0x1f;
    }

    public override string ToString() => $"{Domain:x4}:{Bus:x2}:{Slot:x2}.{Function:x}";

    private static uint Hex(string digits) => uint.Parse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);

    [GeneratedRegex("^(?:(?<domain>[0-9a-fA-F]{1,4}):)?(?<bus>[0-9a-fA-F]{1,2}):(?<slot>[0-9a-fA-F]{1,2})\\.(?<function>[0-7])$")]
    private static partial Regex Pattern();
}
