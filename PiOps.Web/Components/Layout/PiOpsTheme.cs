using MudBlazor;

namespace PiOps.Web.Components.Layout;

/// <summary>
/// The dashboard's light and dark palettes: MudBlazor's look (the purple app bar, pink labels, green/blue/red/orange
/// states) with every colour moved until text on it or in it meets WCAG AA (4.5:1) and lines and icons 3:1.
/// MudBlazor's defaults do not: its pink on white is 3.3:1, white on its green 2.2:1. docs/accessibility.md lists the
/// pairs and PiOps.Tests checks them (ThemeContrastFacts), so a colour changed here cannot quietly fail.
/// </summary>
public static class PiOpsTheme
{
    /// <summary>Text on the filled colours of the dark palette: they are light there, so their text is dark.</summary>
    public const string DarkOnColour = "#121212";

    public static readonly PaletteLight Light = new()
    {
        Primary = "#594ae2",
        PrimaryDarken = "#4334c4",
        Secondary = "#c2185b",
        SecondaryDarken = "#8c1042",
        Info = "#1565c0",
        InfoDarken = "#0d47a1",
        Success = "#2e7d32",
        SuccessDarken = "#1b5e20",
        Warning = "#b45309",
        WarningDarken = "#8a3f06",
        Error = "#c62828",
        ErrorDarken = "#8e1c1c",
        AppbarBackground = "#594ae2",
        AppbarText = "#ffffff",
        // MudBlazor's 0.54 black is 4.6:1 on white and under 4.5 on the grey of a hovered row or a filled chip.
        TextSecondary = "rgba(0,0,0,0.64)",
        // Input outlines and underlines are the only sign of a field: 3:1 against the surface (WCAG 1.4.11).
        LinesInputs = "rgba(0,0,0,0.55)",
    };

    public static readonly PaletteDark Dark = new()
    {
        // MudBlazor's dark purple (#776be7) is 2.8:1 on its dark surface and under 4.5:1 under white text: the dark
        // palette uses light colours with dark text on them, as Material's dark theme does.
        Primary = "#b3a9ff",
        PrimaryContrastText = "#1d1640",
        // In the dark palette "darken" is what MudBlazor uses for an alert's text and a hovered button: lighter still.
        PrimaryDarken = "#cfc9ff",
        Secondary = "#ff80ab",
        SecondaryContrastText = DarkOnColour,
        SecondaryDarken = "#ffa8c6",
        Info = "#64b5f6",
        InfoContrastText = DarkOnColour,
        InfoDarken = "#90caf9",
        Success = "#81c784",
        SuccessContrastText = DarkOnColour,
        SuccessDarken = "#a5d6a7",
        Warning = "#ffb74d",
        WarningContrastText = DarkOnColour,
        WarningDarken = "#ffcc80",
        Error = "#ff8a80",
        ErrorContrastText = DarkOnColour,
        ErrorDarken = "#ffaba5",
        Background = "#32333d",
        Surface = "#373740",
        DrawerBackground = "#27272f",
        AppbarBackground = "#27272f",
        AppbarText = "rgba(255,255,255,0.87)",
        TextSecondary = "rgba(255,255,255,0.72)",
        LinesInputs = "rgba(255,255,255,0.5)",
    };

    public static readonly MudTheme Theme = new() { PaletteLight = Light, PaletteDark = Dark };

    /// <summary>
    /// Chart lines: each at least 3:1 against both the light surface (white) and the dark one (#373740), so one palette
    /// serves both modes; blue and orange first, the pair most colour-blind readers tell apart.
    /// </summary>
    public static readonly string[] ChartPalette = ["#3484f4", "#da620b", "#b75fe3", "#089b6a", "#f54242"];
}
