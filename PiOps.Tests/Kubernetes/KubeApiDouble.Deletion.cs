using System.Globalization;
using System.Text.Json.Nodes;

namespace PiOps.Tests.Kubernetes;

// Deletion as the API server and the controllers around it carry it out, so the product meets objects that linger:
// - staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go Delete: an object with finalizers, or one whose
//   propagation policy needs the garbage collector (deletionFinalizersForGarbageCollection: Foreground adds
//   "foregroundDeletion", Orphan adds "orphan"; batch/v1 Jobs orphan by default), is not removed: markAsDeleting sets
//   deletionTimestamp to now and deletionGracePeriodSeconds to 0, and the answer is the object itself with 200 (the
//   handler answers 202 only for orphanDependents=false). It goes when an update leaves it without finalizers
//   (Update, ShouldDeleteDuringUpdate).
// - pkg/registry/core/pod/strategy.go CheckGracefulDelete with rest/delete.go BeforeDelete: a pod on a node that has
//   not finished is deleted gracefully: deletionTimestamp = now + the grace period (the request's gracePeriodSeconds,
//   else spec.terminationGracePeriodSeconds, which defaults to 30), deletionGracePeriodSeconds = that period. The
//   kubelet removes it once its containers have stopped (here after KubeletStopTime, or when the period ends if that
//   is sooner). A deleted pod's answer is the pod (its registry sets ReturnDeletedObject).
// - the garbage collector: "orphan" takes the owner reference off the dependents, then the finalizer goes;
//   "foregroundDeletion" deletes the dependents and goes when no dependent with blockOwnerDeletion is left; an owner
//   deleted in the Background goes at once and its dependents are deleted after.
public sealed partial class KubeApiDouble
{
    private const string OrphanFinalizer = "orphan";
    private const string ForegroundFinalizer = "foregroundDeletion";
    private bool _collecting;
    private bool _collectAgain;

    /// <summary>How long a pod's containers take to stop once the kubelet sends SIGTERM (capped by the grace period).</summary>
    public TimeSpan KubeletStopTime { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Adds a finalizer, as a controller of someone else's (a backup tool, a policy engine) would.</summary>
    public void AddFinalizer(string plural, string name, string finalizer, string ns = Namespace) => Mutate(plural, name, obj =>
    {
        var list = (obj["metadata"]!["finalizers"] ??= new JsonArray()).AsArray();
        list.Add(finalizer);
    }, ns);

    /// <summary>Removes a finalizer, as its controller does when it is done; a deleting object without finalizers goes.</summary>
    public void RemoveFinalizer(string plural, string name, string finalizer, string ns = Namespace) => Mutate(plural, name, obj =>
    {
        if (obj["metadata"]!["finalizers"] is JsonArray list)
        {
            foreach (var f in list.Where(f => f?.GetValue<string>() == finalizer).ToList())
            {
                list.Remove(f);
            }
        }
    }, ns);

    private static List<string> Finalizers(JsonObject obj) =>
        obj["metadata"]?["finalizers"] is JsonArray list ? [.. list.Select(f => f!.GetValue<string>())] : [];

    // An update cannot set or clear a deletion: the stored deletionTimestamp and grace period stay (ObjectMeta update
    // validation refuses changes to them; the strategies copy them over).
    private static void KeepDeletion(JsonObject updated, JsonObject stored)
    {
        var meta = updated["metadata"]!.AsObject();
        meta["deletionTimestamp"] = stored["metadata"]!["deletionTimestamp"]?.DeepClone();
        meta["deletionGracePeriodSeconds"] = stored["metadata"]!["deletionGracePeriodSeconds"]?.DeepClone();
        if (meta["deletionTimestamp"] is null)
        {
            meta.Remove("deletionTimestamp");
            meta.Remove("deletionGracePeriodSeconds");
        }
    }

    private static bool IsDeleting(JsonObject obj) => obj["metadata"]?["deletionTimestamp"] is not null;

    /// <summary>
    /// Under the lock: the store's Delete. Returns the answer's body: the object as it now is when it lingers, the
    /// deleted pod, or null when a Status should be answered.
    /// </summary>
    private JsonObject? DeleteObject(string plural, JsonObject obj, string policy, long? gracePeriodSeconds = null)
    {
        if (IsDeleting(obj))
        {
            // pendingGraceful, or finalizers already pending: nothing changes (finalizers cannot be changed by a
            // second delete once deletion has started).
            return obj.DeepClone().AsObject();
        }

        var finalizers = Finalizers(obj).Where(f => f is not (OrphanFinalizer or ForegroundFinalizer)).ToList();
        if (policy == "Orphan")
        {
            finalizers.Add(OrphanFinalizer);
        }
        else if (policy == "Foreground")
        {
            finalizers.Add(ForegroundFinalizer);
        }

        long grace = plural == "pods" ? PodGracePeriod(obj, gracePeriodSeconds) : 0;
        if (grace == 0 && finalizers.Count == 0)
        {
            RemoveNow(plural, obj);
            return plural == "pods" ? obj.DeepClone().AsObject() : null;
        }

        var copy = obj.DeepClone().AsObject();
        var meta = copy["metadata"]!.AsObject();
        meta["deletionTimestamp"] = DateTime.UtcNow.AddSeconds(grace).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        meta["deletionGracePeriodSeconds"] = grace;
        if (finalizers.Count > 0)
        {
            meta["finalizers"] = new JsonArray([.. finalizers.Select(f => (JsonNode)f)]);
        }

        if (plural != "pods" && meta["generation"] is not null)
        {
            meta["generation"] = meta["generation"]!.GetValue<int>() + 1;
        }

        Put(plural, copy, "MODIFIED");
        if (grace > 0)
        {
            _ = KubeletStopsAsync(Ns(copy), Name(copy), Uid(copy), TimeSpan.FromSeconds(Math.Min(grace, KubeletStopTime.TotalSeconds)));
        }

        CollectGarbage();
        return copy.DeepClone().AsObject();
    }

    // CheckGracefulDelete: the request's period, else the pod's own (defaulted to 30); 0 for a pod on no node or one
    // that has finished.
    private static long PodGracePeriod(JsonObject pod, long? requested)
    {
        long period = requested ?? pod["spec"]?["terminationGracePeriodSeconds"]?.GetValue<long>() ?? 30;
        string phase = pod["status"]?["phase"]?.GetValue<string>() ?? "";
        return string.IsNullOrEmpty(pod["spec"]?["nodeName"]?.GetValue<string>()) || phase is "Succeeded" or "Failed" ? 0 : period;
    }

    // The kubelet: the containers stop, then it deletes the pod with a grace period of 0.
    private async Task KubeletStopsAsync(string ns, string name, string uid, TimeSpan after)
    {
        await Task.Delay(after);
        lock (_gate)
        {
            if (_store["pods"].GetValueOrDefault(Key(ns, name)) is { } pod && Uid(pod) == uid)
            {
                EndContainer(name);
                if (Finalizers(pod).Count == 0)
                {
                    RemoveNow("pods", pod);
                }
                else
                {
                    var copy = pod.DeepClone().AsObject();
                    copy["metadata"]!["deletionGracePeriodSeconds"] = 0;
                    Put("pods", copy, "MODIFIED");
                }
            }
        }
    }

    // Under the lock: the object leaves the store; the garbage collector deletes its dependents (Background) and
    // looks again at owners waiting for their dependents.
    private void RemoveNow(string plural, JsonObject obj)
    {
        if (!_store[plural].Remove(Key(obj)))
        {
            return;
        }

        Put(plural, obj.DeepClone().AsObject(), "DELETED");
        foreach (var (depPlural, dependent) in DependentsOf(obj))
        {
            DeleteObject(depPlural, dependent, "Background");
        }

        CollectGarbage();
    }

    private List<(string Plural, JsonObject Object)> DependentsOf(JsonObject owner) =>
        [.. _store.SelectMany(s => s.Value.Values.Select(v => (s.Key, v))).Where(d => Owners(d.v).Any(o => o["uid"]?.GetValue<string>() == Uid(owner)))];

    /// <summary>Under the lock, after an update: a deleting object that has no finalizer left and no grace period to wait out goes.</summary>
    private void FinishIfUnblocked(string plural, JsonObject obj)
    {
        if (IsDeleting(obj) && Finalizers(obj).Count == 0 && (obj["metadata"]!["deletionGracePeriodSeconds"]?.GetValue<long>() ?? 0) == 0)
        {
            RemoveNow(plural, obj);
        }
    }

    // Under the lock: the garbage collector's two finalizers, until nothing more changes.
    private void CollectGarbage()
    {
        if (_collecting)
        {
            _collectAgain = true;
            return;
        }

        _collecting = true;
        try
        {
            do
            {
                _collectAgain = false;
                foreach (var (plural, obj) in _store.SelectMany(s => s.Value.Values.Where(IsDeleting).Select(v => (s.Key, v))).ToList())
                {
                    if (_store[plural].GetValueOrDefault(Key(obj)) is not { } current || !ReferenceEquals(current, obj))
                    {
                        continue;
                    }

                    var finalizers = Finalizers(obj);
                    var keep = finalizers.ToList();
                    if (finalizers.Contains(OrphanFinalizer))
                    {
                        foreach (var (depPlural, dependent) in DependentsOf(obj))
                        {
                            var copy = dependent.DeepClone().AsObject();
                            var refs = copy["metadata"]!["ownerReferences"]!.AsArray();
                            foreach (var r in refs.Where(r => r?["uid"]?.GetValue<string>() == Uid(obj)).ToList())
                            {
                                refs.Remove(r);
                            }

                            Put(depPlural, copy, "MODIFIED");
                        }

                        keep.Remove(OrphanFinalizer);
                    }

                    if (finalizers.Contains(ForegroundFinalizer))
                    {
                        var dependents = DependentsOf(obj);
                        foreach (var (depPlural, dependent) in dependents.Where(d => !IsDeleting(d.Object)))
                        {
                            DeleteObject(depPlural, dependent, "Background");
                        }

                        bool blocked = DependentsOf(obj).Any(d => Owners(d.Object).Any(o => o["uid"]?.GetValue<string>() == Uid(obj) && o["blockOwnerDeletion"]?.GetValue<bool>() == true));
                        if (!blocked)
                        {
                            keep.Remove(ForegroundFinalizer);
                        }
                    }

                    if (keep.Count != finalizers.Count)
                    {
                        var copy = obj.DeepClone().AsObject();
                        copy["metadata"]!["finalizers"] = new JsonArray([.. keep.Select(f => (JsonNode)f)]);
                        Put(plural, copy, "MODIFIED");
                        FinishIfUnblocked(plural, copy);
                    }
                }
            }
            while (_collectAgain);
        }
        finally
        {
            _collecting = false;
        }
    }
}
