using System.Globalization;
using PiOps.Web.Components.Controls;
using PiOps.Web.Components.Layout;
using Xunit;

namespace PiOps.Tests.Accessibility;

/// <summary>
/// The theme's colour pairs meet WCAG 2.2 AA: 4.5:1 for text, 3:1 for lines, icons and chart series (1.4.11), which
/// axe does not measure. A colour changed in <see cref="PiOpsTheme"/> that fails here fails for a reader too.
/// </summary>
public sealed class ThemeContrastFacts
{
    private const string LightSurface = "#ffffff";
    private const string DarkSurface = "#373740";
    private const string DarkBackground = "#32333d";
    private const string LogPane = "#1e1e24";

    public static TheoryData<string, string, string, double> Pairs()
    {
        var light = PiOpsTheme.Light;
        var dark = PiOpsTheme.Dark;
        var pairs = new TheoryData<string, string, string, double>();
        foreach (var (name, colour) in new[] { ("primary", light.Primary), ("secondary", light.Secondary), ("info", light.Info),
                     ("success", light.Success), ("warning", light.Warning), ("error", light.Error) })
        {
            pairs.Add($"light {name} text on the surface", Hex(colour), LightSurface, 4.5);
            pairs.Add($"light {name}'s own text on it", Hex(ContrastText(light, name)), Hex(colour), 4.5);
        }

        foreach (var (name, colour) in new[] { ("primary", dark.Primary), ("secondary", dark.Secondary), ("info", dark.Info),
                     ("success", dark.Success), ("warning", dark.Warning), ("error", dark.Error) })
        {
            pairs.Add($"dark {name} text on the surface", Hex(colour), DarkSurface, 4.5);
            pairs.Add($"dark {name} text on the background", Hex(colour), DarkBackground, 4.5);
            pairs.Add($"dark {name}'s own text on it", Hex(ContrastText(dark, name)), Hex(colour), 4.5);
        }

        pairs.Add("light app bar text", Hex(light.AppbarText), Hex(light.AppbarBackground), 4.5);
        pairs.Add("dark app bar text", Blend(dark.AppbarText.ToString(), Hex(dark.AppbarBackground)), Hex(dark.AppbarBackground), 4.5);
        pairs.Add("light secondary text", Blend(light.TextSecondary.ToString(), LightSurface), LightSurface, 4.5);
        pairs.Add("dark secondary text", Blend(dark.TextSecondary.ToString(), DarkSurface), DarkSurface, 4.5);
        pairs.Add("light input lines", Blend(light.LinesInputs.ToString(), LightSurface), LightSurface, 3);
        pairs.Add("dark input lines", Blend(dark.LinesInputs.ToString(), DarkSurface), DarkSurface, 3);
        foreach (var colour in PiOpsTheme.ChartPalette)
        {
            pairs.Add($"chart line {colour} on light", colour, LightSurface, 3);
            pairs.Add($"chart line {colour} on dark", colour, DarkSurface, 3);
        }

        return pairs;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public void EveryColourPair_MeetsItsMinimumContrast(string what, string foreground, string background, double minimum)
    {
        double ratio = Contrast(foreground, background);
        Assert.True(ratio >= minimum, $"{what}: {foreground} on {background} is {ratio:0.00}:1, under {minimum}:1");
    }

    [Fact]
    public void LogPodColours_AreReadableOnTheLogPane()
    {
        foreach (var colour in PiOps.Web.Components.Pages.Logs.PodPalette)
        {
            Assert.True(Contrast(colour, LogPane) >= 4.5, $"pod colour {colour} on {LogPane}: {Contrast(colour, LogPane):0.00}:1");
            Assert.True(Contrast("#000000", colour) >= 4.5, $"black on the pod chip {colour}: {Contrast("#000000", colour):0.00}:1");
        }
    }

    private static MudBlazor.Utilities.MudColor ContrastText(MudBlazor.Palette palette, string name) => name switch
    {
        "primary" => palette.PrimaryContrastText,
        "secondary" => palette.SecondaryContrastText,
        "info" => palette.InfoContrastText,
        "success" => palette.SuccessContrastText,
        "warning" => palette.WarningContrastText,
        _ => palette.ErrorContrastText,
    };

    private static string Hex(MudBlazor.Utilities.MudColor c) => $"#{c.R:x2}{c.G:x2}{c.B:x2}";

    // A translucent colour as it shows over its background.
    private static string Blend(string rgba, string background)
    {
        var c = new MudBlazor.Utilities.MudColor(rgba);
        var (r, g, b) = Rgb(background);
        double a = c.A / 255.0;
        return $"#{(int)Math.Round(c.R * a + r * (1 - a)):x2}{(int)Math.Round(c.G * a + g * (1 - a)):x2}{(int)Math.Round(c.B * a + b * (1 - a)):x2}";
    }

    private static (int R, int G, int B) Rgb(string hex) =>
        (int.Parse(hex[1..3], NumberStyles.HexNumber), int.Parse(hex[3..5], NumberStyles.HexNumber), int.Parse(hex[5..7], NumberStyles.HexNumber));

    /// <summary>WCAG 2.2's contrast ratio of two opaque colours.</summary>
    public static double Contrast(string a, string b)
    {
        static double Luminance(string hex)
        {
            var (r, g, b) = Rgb(hex);
            static double Channel(int v)
            {
                double c = v / 255.0;
                return c <= 0.04045 ? c / 12.92 : Math.Pow((c + 0.055) / 1.055, 2.4);
            }

            return 0.2126 * Channel(r) + 0.7152 * Channel(g) + 0.0722 * Channel(b);
        }

        double la = Luminance(a), lb = Luminance(b);
        return (Math.Max(la, lb) + 0.05) / (Math.Min(la, lb) + 0.05);
    }
}
