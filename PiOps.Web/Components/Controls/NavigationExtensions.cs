using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.WebUtilities;

namespace PiOps.Web.Components.Controls;

public static class NavigationExtensions
{
    /// <summary>One query parameter of the current address, or null.</summary>
    public static string? GetQueryParameter(this NavigationManager nav, string name) =>
        QueryHelpers.ParseQuery(nav.ToAbsoluteUri(nav.Uri).Query).TryGetValue(name, out var values) ? values.ToString() : null;
}
