using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Components.Web;
using MudBlazor;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// A MudButton whose click survives the live page around it. MudButton wraps its click handler in a new object on every
/// render, so each render of a page (a row's age ticking, a new snapshot) gave every button a new event handler id and
/// retired the old one. On a busy server a click sent with the old id could reach Blazor after the retirement and was
/// dropped without a word: an operator's Create or Delete did nothing. This button renders only when what it shows
/// changes (its text, state, look or attributes), so its handler id stays while the page re-renders, and a click calls
/// the newest <see cref="OnClick"/> the page gave it.
/// </summary>
public sealed class ActionButton : ComponentBase
{
    private readonly EventCallback<MouseEventArgs> _click;
    private string _look = "";
    private string? _rendered;

    public ActionButton() => _click = EventCallback.Factory.Create<MouseEventArgs>(this, ClickAsync);

    /// <summary>What the button says.</summary>
    [Parameter, EditorRequired]
    public string Text { get; set; } = "";

    [Parameter]
    public EventCallback<MouseEventArgs> OnClick { get; set; }

    [Parameter]
    public bool Disabled { get; set; }

    // Null: MudButton's own default.
    [Parameter]
    public Variant? Variant { get; set; }

    [Parameter]
    public Color? Color { get; set; }

    [Parameter]
    public Size? Size { get; set; }

    [Parameter]
    public ButtonType? ButtonType { get; set; }

    [Parameter]
    public string? StartIcon { get; set; }

    [Parameter]
    public string? EndIcon { get; set; }

    [Parameter]
    public string? Href { get; set; }

    [Parameter]
    public string? Class { get; set; }

    /// <summary>The rest (data-testid, data-key, aria-*), given to the button element.</summary>
    [Parameter(CaptureUnmatchedValues = true)]
    public IReadOnlyDictionary<string, object>? Attributes { get; set; }

    protected override void OnParametersSet()
    {
        var look = new StringBuilder()
            .Append(Text).Append('\u001f').Append(Disabled).Append('\u001f').Append(Variant).Append('\u001f').Append(Color)
            .Append('\u001f').Append(Size).Append('\u001f').Append(ButtonType).Append('\u001f').Append(StartIcon)
            .Append('\u001f').Append(EndIcon).Append('\u001f').Append(Href).Append('\u001f').Append(Class);
        foreach (var (name, value) in Attributes ?? new Dictionary<string, object>())
        {
            look.Append('\u001e').Append(name).Append('=').Append(value);
        }

        _look = look.ToString();
    }

    protected override bool ShouldRender() => _look != _rendered;

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        _rendered = _look;
        builder.OpenComponent<MudButton>(0);
        if (Variant is { } variant)
        {
            builder.AddComponentParameter(1, nameof(MudButton.Variant), variant);
        }

        if (Color is { } color)
        {
            builder.AddComponentParameter(2, nameof(MudButton.Color), color);
        }

        if (Size is { } size)
        {
            builder.AddComponentParameter(3, nameof(MudButton.Size), size);
        }

        if (ButtonType is { } type)
        {
            builder.AddComponentParameter(4, nameof(MudButton.ButtonType), type);
        }

        builder.AddComponentParameter(5, nameof(MudButton.StartIcon), StartIcon);
        builder.AddComponentParameter(6, nameof(MudButton.EndIcon), EndIcon);
        builder.AddComponentParameter(7, nameof(MudButton.Href), Href);
        builder.AddComponentParameter(8, nameof(MudButton.Class), Class);
        builder.AddComponentParameter(9, nameof(MudButton.Disabled), Disabled);
        builder.AddComponentParameter(10, nameof(MudButton.OnClick), _click);
        builder.AddMultipleAttributes(11, Attributes);
        builder.AddComponentParameter(12, nameof(MudButton.ChildContent), (RenderFragment)(b => b.AddContent(0, Text)));
        builder.CloseComponent();
    }

    // The page's callback re-renders the page (its receiver); this button re-renders only if its look changed.
    private Task ClickAsync(MouseEventArgs e) => OnClick.InvokeAsync(e);
}
