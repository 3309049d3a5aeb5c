using PiOps.Web.Components.Controls;
using Xunit;

namespace PiOps.Tests.Components;

/// <summary>Every form reads whole numbers one way: digits only after trimming, and a sentence for anything else.</summary>
public sealed class FormNumbersFacts
{
    [Theory]
    [InlineData("12", 12)]
    [InlineData(" 7 ", 7)]
    [InlineData("0", 0)]
    public void Digits_AreTheNumber(string text, int expected)
    {
        var errors = new List<string>();

        Assert.Equal(expected, new FormNumbers(errors).Whole(text, "Parallelism"));
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("+3")]
    [InlineData("1,000")]
    [InlineData("1.5")]
    [InlineData("3e2")]
    [InlineData("ten")]
    [InlineData("")]
    [InlineData("99999999999")]
    public void AnythingElse_IsRefused_WithTheFieldsName(string text)
    {
        var errors = new List<string>();

        Assert.Null(new FormNumbers(errors).Whole(text, "Parallelism"));
        Assert.Equal(["Parallelism must be a whole number."], errors);
    }

    [Fact]
    public void AnOptionalField_MayBeEmpty_AndSaysSoWhenWrong()
    {
        var errors = new List<string>();
        var numbers = new FormNumbers(errors);

        Assert.Null(numbers.Whole("  ", "Completions", optional: true));
        Assert.Empty(errors);
        Assert.Null(numbers.Whole("x", "Completions", optional: true));
        Assert.Null(numbers.Whole("y", "The backoff limit"));
        Assert.Equal(["Completions must be a whole number, or empty.", "The backoff limit must be a whole number."], errors);
    }
}
