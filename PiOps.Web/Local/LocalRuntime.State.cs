using System.Text.Json;
using PiOps.Web.Workloads;

namespace PiOps.Web.Local;

/// <summary>The definitions that survive a restart of the dashboard: data/workloads.json, loaded at start and saved after every change.</summary>
public sealed partial class LocalRuntime
{
    private int? LoadState()
    {
        try
        {
            if (File.Exists(StateFile))
            {
                var state = JsonSerializer.Deserialize<SavedState>(File.ReadAllText(StateFile), StateJson);
                foreach (var j in state?.Jobs ?? [])
                {
                    // Finished Jobs keep their outcome; unfinished ones start their pods again.
                    _jobs.Add(new LocalJob(j.Spec, j.StartTime, j.CronJob)
                    {
                        Succeeded = j.Succeeded, Failed = j.Failed, Condition = j.Condition, Reason = j.Reason, CompletionTime = j.CompletionTime,
                    });
                }

                foreach (var c in state?.CronJobs ?? [])
                {
                    _cronJobs.Add(new LocalCronJob(c.Spec, c.CreatedAt)
                    {
                        LastScheduleTime = c.LastScheduleTime, LastSuccessfulTime = c.LastSuccessfulTime, LastEvent = "Loaded after a restart of the dashboard.",
                    });
                }

                if (state?.Autoscaler is { } autoscaler)
                {
                    _autoscaler.Change(autoscaler);
                }

                return state?.Workers.Replicas;
            }
        }
        catch (Exception ex) when (ex is IOException or JsonException or KeyNotFoundException or InvalidOperationException or NotSupportedException)
        {
            log.LogWarning("Could not read {File} ({Message}); starting with {Replicas} replicas", StateFile, ex.Message, _o.InitialReplicas);
        }

        return null;
    }

    // Saves are serialised, and each carries the version of the state it holds: a save that finds a newer state already
    // written skips, so workloads.json always ends at the newest state. Before, two saves at once (the reconcile loop's
    // and an operator's delete) shared one temporary file and one of them failed, taking the operator's page with it.
    private readonly object _saveGate = new();
    private long _stateVersion; // under _gate
    private long _savedVersion; // under _saveGate

    private void SaveState(int? replicas = null)
    {
        SavedState state;
        long version;
        lock (_gate)
        {
            state = new SavedState(new SavedWorkers(replicas ?? Math.Max(0, _desired)),
                _jobs.Where(j => !j.Deleting).Select(j => new SavedJob(j.Spec, j.StartTime, j.Succeeded, j.Failed, j.Condition, j.Reason, j.CompletionTime, j.CronJob)).ToList(),
                _cronJobs.Select(c => new SavedCronJob(c.Spec, c.CreatedAt, c.LastScheduleTime, c.LastSuccessfulTime)).ToList(),
                _autoscaler.Spec);
            version = ++_stateVersion;
        }

        // The reconcile loop may hold _gate here (the autoscaler saves under it); nothing below takes _gate.
        lock (_saveGate)
        {
            if (version <= _savedVersion)
            {
                return;
            }

            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(StateFile)!);
                string tmp = StateFile + ".tmp";
                File.WriteAllText(tmp, JsonSerializer.Serialize(state, StateJson));
                File.Move(tmp, StateFile, overwrite: true);
                _savedVersion = version;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The change itself stands (it is in memory and running); only its survival of a restart is at risk.
                log.LogError("Could not save the local workloads to {File} ({Message}): the change holds until the dashboard stops, and the next change tries again",
                    StateFile, ex.Message);
            }
        }
    }

    private static readonly JsonSerializerOptions StateJson = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
    };

    private sealed record SavedState(SavedWorkers Workers, List<SavedJob>? Jobs, List<SavedCronJob>? CronJobs, AutoscalerSpec? Autoscaler);

    private sealed record SavedWorkers(int Replicas);

    private sealed record SavedJob(JobSpec Spec, DateTimeOffset StartTime, int Succeeded, int Failed, string? Condition, string? Reason, DateTimeOffset? CompletionTime, string? CronJob);

    private sealed record SavedCronJob(CronJobSpec Spec, DateTimeOffset CreatedAt, DateTimeOffset? LastScheduleTime, DateTimeOffset? LastSuccessfulTime);
}
