using Microsoft.AspNetCore.Components;
using MudBlazor;
using PiOps.Web.Audit;
using PiOps.Web.Components.Controls;

namespace PiOps.Web.Components.Pages;

/// <summary>
/// The audit trail: every change, who asked for it, from where, and how it ended, newest first; filtered by user,
/// action or outcome, and downloadable as CSV.
/// </summary>
public sealed partial class Audit
{
    [CascadingParameter] private DisplayZone Zone { get; set; } = DisplayZone.Utc;

    private const int Shown = 500;
    private IReadOnlyList<AuditEntry> _all = [];
    private IReadOnlyList<AuditEntry> _shown = [];
    private string? _user;
    private string? _action;
    private bool _failedOnly;

    private bool Filtered => !string.IsNullOrWhiteSpace(_user) || !string.IsNullOrWhiteSpace(_action) || _failedOnly;

    private string CsvHref =>
        $"api/audit.csv?user={Uri.EscapeDataString(_user ?? "")}&action={Uri.EscapeDataString(_action ?? "")}&failedOnly={(_failedOnly ? "true" : "false")}";

    protected override Task OnInitializedAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        try
        {
            _all = await AuditLog.ReadAsync(Shown * 4);
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            Snackbar.Add($"The audit trail could not be read from Redis: {ex.Message}", Severity.Error);
        }

        Apply();
    }

    private void Apply() => _shown = AuditFilter.Apply(_all, _user, _action, _failedOnly).Take(Shown).ToList();

    private void FailedOnlyChanged(bool value)
    {
        _failedOnly = value;
        Apply();
    }
}
