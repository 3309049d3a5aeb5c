using System.Text;

namespace PiOps.Web.Workloads;

/// <summary>The batch/v1 Job a spec stands for, as YAML: what `kubectl create -f job.yaml` would be given.</summary>
public static class JobYaml
{
    public static string Render(JobSpec spec, string image, string redisHost, string redisPort, string queueName)
    {
        var sb = new StringBuilder();
        sb.AppendLine("apiVersion: batch/v1");
        sb.AppendLine("kind: Job");
        sb.AppendLine("metadata:");
        sb.AppendLine($"  name: {spec.Name}");
        sb.AppendLine("  labels:");
        sb.AppendLine("    piops.io/managed: \"true\"");
        sb.AppendLine("spec:");
        sb.AppendLine($"  backoffLimit: {spec.BackoffLimit}");
        sb.AppendLine($"  parallelism: {spec.Parallelism}");
        if (spec.Completions is { } c)
        {
            sb.AppendLine($"  completions: {c}");
        }

        if (spec.Indexed)
        {
            sb.AppendLine("  completionMode: Indexed");
        }

        sb.AppendLine("  template:");
        sb.AppendLine("    spec:");
        sb.AppendLine($"      restartPolicy: {spec.RestartPolicy}");
        sb.AppendLine("      containers:");
        sb.AppendLine("      - name: pi-container");
        sb.AppendLine($"        image: {image}");
        if (spec.Command == JobCommand.AddTasks)
        {
            sb.AppendLine($"        args: [\"add-tasks\", \"--count\", \"{spec.AddTasksCount}\"]");
        }

        sb.AppendLine("        env:");
        var env = new List<KeyValuePair<string, string>>
        {
            new("REDIS_HOST", redisHost), new("REDIS_PORT", redisPort), new("QUEUE_NAME", queueName),
        };
        env.AddRange(spec.Env);
        foreach (var (k, v) in env)
        {
            sb.AppendLine($"        - name: {k}");
            sb.AppendLine($"          value: \"{v.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"");
        }

        return sb.ToString();
    }
}
