using System.Globalization;

namespace PiOps.Web.Components.Controls;

/// <summary>
/// The forms' one reading of a whole number: digits only after trimming (no sign, no separators, no decimals), in any
/// culture the same. Each field that is not one adds a sentence to the form's errors, so the operator sees every
/// problem at once.
/// </summary>
public sealed class FormNumbers(List<string> errors)
{
    /// <summary>The number, or null with "FIELD must be a whole number." (", or empty" when it may be left empty).</summary>
    public int? Whole(string? text, string field, bool optional = false)
    {
        if (optional && string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (TryWhole(text, out int n))
        {
            return n;
        }

        errors.Add($"{field} must be a whole number{(optional ? ", or empty" : "")}.");
        return null;
    }

    /// <summary>The same reading without a sentence, for a field with a message of its own.</summary>
    public static bool TryWhole(string? text, out int value) =>
        int.TryParse(text?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out value);
}
