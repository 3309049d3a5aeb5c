using System.Globalization;
using k8s;
using k8s.Autorest;

namespace PiOps.Web.Kubernetes;

/// <summary>
/// A followed pods/log request resumed with <c>sinceTime</c>, which the client's ReadNamespacedPodLog does not offer
/// (only <c>sinceSeconds</c>, counted back from the node's clock, so any skew between the dashboard and the node
/// drops or repeats lines). Built by hand on the client's own HttpClient and credentials, so its handlers
/// (impersonation included) and its TLS apply as to every other call.
/// </summary>
public static class PodLogRequest
{
    /// <summary>
    /// The time as the query parameter reaches the kubelet: metav1.Time is written as RFC3339 to the second, so the
    /// stream starts at the whole second and the caller drops what it has already shown (lines at or before its last).
    /// </summary>
    public static string SinceTime(DateTimeOffset since)
    {
        var utc = since.UtcDateTime;
        return new DateTime(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerSecond), DateTimeKind.Utc)
            .ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// GET pods/NAME/log?follow=true&amp;timestamps=true&amp;sinceTime=...; a refusal throws the
    /// <see cref="HttpOperationException"/> the generated client throws, with the API's Status as its content.
    /// </summary>
    public static async Task<HttpResponseMessage> FollowSinceAsync(k8s.Kubernetes client, string ns, string pod, string? container,
        DateTimeOffset since, CancellationToken cancellationToken)
    {
        string query = "follow=true&timestamps=true&sinceTime=" + Uri.EscapeDataString(SinceTime(since))
            + (container is null ? "" : "&container=" + Uri.EscapeDataString(container));
        var uri = new Uri(client.BaseUri, $"api/v1/namespaces/{Uri.EscapeDataString(ns)}/pods/{Uri.EscapeDataString(pod)}/log?{query}");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (client.Credentials is { } credentials)
        {
            await credentials.ProcessHttpRequestAsync(request, cancellationToken);
        }

        var response = await client.HttpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (response.IsSuccessStatusCode)
        {
            return response;
        }

        using (response)
        {
            string body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpOperationException($"Operation returned an invalid status code '{response.StatusCode}'")
            {
                Request = new HttpRequestMessageWrapper(request, null),
                Response = new HttpResponseMessageWrapper(response, body),
            };
        }
    }
}
