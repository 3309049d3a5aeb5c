using MudBlazor;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// Runs an operator's action from a page; one per circuit. An <see cref="OperatorActionException"/> carries the sentence
/// to show. Any other exception is a fault of the dashboard's own: it is logged with its stack, and the operator gets a
/// sentence in its place. Without this, Blazor ends the circuit when an exception escapes an event handler, and the page
/// goes with it, its form and unsaved input included. A cancelled action (the circuit closing) is not a failure and is
/// left to Blazor, which ignores it.
/// </summary>
public sealed class ActionRunner(ISnackbar snackbar, IDialogService dialogs, ILogger<ActionRunner> log)
{
    /// <summary>Runs <paramref name="action"/>; null when it succeeded, else what to tell the operator.</summary>
    /// <param name="what">What the operator asked for, as a verb phrase: "re-run the Job nightly".</param>
    public async Task<OperatorActionException?> TryAsync(string what, Func<Task> action)
    {
        try
        {
            await action();
            return null;
        }
        catch (OperatorActionException ex)
        {
            return ex;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogError(ex, "Unexpected failure when an operator tried to {Action}", what);
            return Unexpected(what, ex);
        }
    }

    /// <summary>Runs <paramref name="action"/> and says how it went in a snackbar; true when it succeeded.</summary>
    public Task<bool> RunAsync(string what, Func<Task> action, string done) => RunAsync(what, action, () => done);

    /// <summary>As above, after asking the operator first: (title, what will happen, the button that does it).</summary>
    public async Task<bool> RunAsync(string what, Func<Task> action, string done, (string Title, string Text, string Yes) confirm)
    {
        var (title, text, yes) = confirm;
        if (await dialogs.ShowMessageBoxAsync(title, text, yesText: yes, cancelText: "Cancel") != true)
        {
            return false;
        }

        return await RunAsync(what, action, done);
    }

    /// <summary>As above, with a success sentence made once the action has run (it may name what the action returned).</summary>
    public async Task<bool> RunAsync(string what, Func<Task> action, Func<string> done)
    {
        var failure = await TryAsync(what, action);
        snackbar.Add(failure?.Message ?? done(), failure is null ? Severity.Success : Severity.Error);
        return failure is null;
    }

    /// <summary>The sentence for a failure nobody planned for: what failed, that its effect is unknown, where the details are.</summary>
    public static OperatorActionException Unexpected(string what, Exception ex) =>
        new($"Could not {what}: {ex.Message.TrimEnd('.')}. This failure was not expected, so the action may or may not have " +
            $"taken effect: look before trying again. The dashboard's log has the details ({ex.GetType().Name}).", ex);
}
