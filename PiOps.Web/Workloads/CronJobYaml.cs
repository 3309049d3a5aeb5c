using System.Text;

namespace PiOps.Web.Workloads;

/// <summary>The batch/v1 CronJob a spec stands for, as YAML: what `kubectl create -f cronjob.yaml` would be given.</summary>
public static class CronJobYaml
{
    public static string Render(CronJobSpec spec, string image, string redisHost, string redisPort, string queueName)
    {
        var sb = new StringBuilder();
        sb.AppendLine("apiVersion: batch/v1");
        sb.AppendLine("kind: CronJob");
        sb.AppendLine("metadata:");
        sb.AppendLine($"  name: {spec.Name}");
        sb.AppendLine("  labels:");
        sb.AppendLine("    piops.io/managed: \"true\"");
        sb.AppendLine("spec:");
        sb.AppendLine($"  schedule: \"{spec.Schedule}\"");
        if (!string.IsNullOrWhiteSpace(spec.TimeZone))
        {
            sb.AppendLine($"  timeZone: \"{spec.TimeZone}\"");
        }

        sb.AppendLine($"  suspend: {(spec.Suspend ? "true" : "false")}");
        sb.AppendLine($"  concurrencyPolicy: {spec.ConcurrencyPolicy}");
        sb.AppendLine($"  successfulJobsHistoryLimit: {spec.SuccessfulJobsHistoryLimit}");
        sb.AppendLine($"  failedJobsHistoryLimit: {spec.FailedJobsHistoryLimit}");
        if (spec.StartingDeadlineSeconds is { } deadline)
        {
            sb.AppendLine($"  startingDeadlineSeconds: {deadline}");
        }

        // The Job's own spec, one level down under jobTemplate, exactly as a Job of that spec renders.
        sb.AppendLine("  jobTemplate:");
        bool inSpec = false;
        foreach (var line in JobYaml.Render(spec.JobTemplate, image, redisHost, redisPort, queueName).Split('\n'))
        {
            inSpec |= line.StartsWith("spec:", StringComparison.Ordinal);
            if (inSpec && line.Length > 0)
            {
                sb.Append("    ").AppendLine(line.TrimEnd('\r'));
            }
        }

        return sb.ToString();
    }
}
