using System.Globalization;

namespace Vio4wd.Ctl.Output;

/// <summary>Durations the way kubectl prints ages: 45s, 12m, 3h, 5d.</summary>
internal static class Age
{
    public static string Of(DateTimeOffset since, DateTimeOffset now)
    {
        TimeSpan age = now - since;
        return age.TotalSeconds < 0 ? "0s"
            : age.TotalMinutes < 2 ? Whole(age.TotalSeconds, "s")
            : age.TotalHours < 2 ? Whole(age.TotalMinutes, "m")
            : age.TotalDays < 2 ? Whole(age.TotalHours, "h")
            : Whole(age.TotalDays, "d");
    }

    private static string Whole(double value, string unit) => ((long)value).ToString(CultureInfo.InvariantCulture) + unit;
}
