using PiOps.Shared.Pi;
using Xunit;

namespace PiOps.Tests.Pi;

public class LeibnizPiFacts
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(100)]
    [InlineData(1001)]
    [InlineData(2500)]
    public void Compute_MatchesExactRational_ToEveryPrintedDigit(long n)
    {
        var (num, den) = PiReference.Exact(n);
        var value = LeibnizPi.Compute(n);

        Assert.Equal(PiReference.Round(num, den, 20), value.ToString());
        Assert.Equal(PiReference.Round(num, den, 28), value.ToString(28));
        Assert.True(PiReference.DistanceE30(num, den, value.Hi, value.Lo) < 1, "error over 1e-30");
    }

    [Fact]
    public void Compute_ZeroIterations_GivesFour()
    {
        Assert.Equal("4.0000000000000000000", LeibnizPi.Compute(0).ToString());
    }

    [Fact]
    public void AsymptoticReference_AgreesWithExactRational_To40Digits()
    {
        // The reference for large n is checked here against exact arithmetic, so it can be trusted where exact is too slow.
        var (en, ed) = PiReference.Exact(2000);
        var (an, ad) = PiReference.Asymptotic(2000);
        Assert.Equal(PiReference.Round(en, ed, 40), PiReference.Round(an, ad, 40));
    }

    [Theory]
    [InlineData(9_500_000L)]
    [InlineData(10_000_000L)]
    [InlineData(12_345_678L)]
    [InlineData(100_000_000L)]
    [InlineData(1_000_000_000L)]
    public void Compute_MatchesHighPrecisionReference_ForLargeN(long n)
    {
        var (num, den) = PiReference.Asymptotic(n);
        var value = LeibnizPi.Compute(n);

        Assert.Equal(PiReference.Round(num, den, 20), value.ToString());
        Assert.True(PiReference.DistanceE30(num, den, value.Hi, value.Lo) < 1000, $"error over 1e-27 at n={n}");
    }

    [Fact]
    public void Compute_IsRightWhereTheBooksDecimalGoesWrong()
    {
        // The book printed 3.1415927062213693620 for 9500000 iterations (20-digit Decimal); the true value differs from
        // the 17th digit on.
        var (num, den) = PiReference.Asymptotic(9_500_000);
        string truth = PiReference.Round(num, den, 20);
        Assert.NotEqual("3.1415927062213693620", truth);
        Assert.Equal(truth, LeibnizPi.Compute(9_500_000).ToString());
        Assert.StartsWith("3.14159270622136", truth);
    }

    [Fact]
    public void Compute_ReportsProgressUpToN()
    {
        var reports = new List<long>();
        LeibnizPi.Compute(3 * LeibnizPi.ChunkIterations + 17, reports.Add);

        Assert.Equal(4, reports.Count);
        Assert.Equal(reports.Order(), reports);
        Assert.Equal(3 * LeibnizPi.ChunkIterations + 17, reports[^1]);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData((1L << 50) + 1)]
    public void Compute_RejectsOutOfRangeN(long n)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LeibnizPi.Compute(n));
    }

    [Theory]
    [InlineData(1, 1, 20, "1.0000000000000000000")]
    [InlineData(2, 3, 3, "0.667")]
    [InlineData(5, 2, 1, "2")]
    [InlineData(25, 10, 2, "2.5")]
    [InlineData(5, 200, 1, "0.02")]
    [InlineData(999, 100, 2, "10")]
    public void FormatFraction_RoundsHalfToEven_AndPlacesThePoint(long num, long den, int digits, string expected)
    {
        Assert.Equal(expected, PiValue.FormatFraction(num, den, digits));
    }
}
