namespace PiOps.Web.Workloads;

/// <summary>
/// Who asks for a change, passed with each call from the guard to the backend: the audit's user; on a cluster, the
/// user impersonated (Auth:Impersonate) and the one named on what is created. Null: the dashboard's own call (the
/// local CronJob controller's runs, the cache's reads).
/// </summary>
public sealed record Actor(string Name, string Role);
