using System.Text.Json;
using System.Text.Json.Serialization;

namespace PiOps.Web.Utils;

/// <summary>How the dashboard's own records (audit entries, API tokens) are written to Redis: camelCase, enums as words.</summary>
public static class StoredJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Deserialize<T>(string json) => JsonSerializer.Deserialize<T>(json, Options);
}
