using System.Globalization;
using System.Numerics;
using System.Text;

namespace PiOps.Shared.Pi;

/// <summary>A computed partial sum of the series, about 32 significant digits, printed as the book prints it.</summary>
public readonly record struct PiValue(double Hi, double Lo)
{
    /// <summary>The book prints 20 significant digits (Python's Decimal with precision 20).</summary>
    public const int BookDigits = 20;

    /// <summary>The value correctly rounded (half to even) to <paramref name="significantDigits"/> digits, e.g. 3.1415926535897932385.</summary>
    public string ToString(int significantDigits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(significantDigits, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(significantDigits, 30);
        var (numerator, shift) = new DoubleDouble(Hi, Lo).ToExactFraction();
        return FormatFraction(numerator, BigInteger.One << shift, significantDigits);
    }

    public override string ToString() => ToString(BookDigits);

    /// <summary>Rounds the positive fraction num/den to <paramref name="digits"/> significant digits, half to even.</summary>
    internal static string FormatFraction(BigInteger num, BigInteger den, int digits)
    {
        if (num.Sign <= 0 || den.Sign <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(num), "Only positive values are printed.");
        }

        // Find e with 10^e <= num/den < 10^(e+1).
        int e = (int)Math.Floor(BigInteger.Log10(num) - BigInteger.Log10(den));
        if (Compare(num, den, e) < 0)
        {
            e--;
        }
        else if (Compare(num, den, e + 1) >= 0)
        {
            e++;
        }

        // q = round(num/den * 10^(digits-1-e))
        int scale = digits - 1 - e;
        var n = scale >= 0 ? num * BigInteger.Pow(10, scale) : num;
        var d = scale >= 0 ? den : den * BigInteger.Pow(10, -scale);
        var q = BigInteger.DivRem(n, d, out var r);
        int half = (2 * r).CompareTo(d);
        if (half > 0 || (half == 0 && !q.IsEven))
        {
            q += 1;
        }

        string s = q.ToString(CultureInfo.InvariantCulture);
        if (s.Length > digits)
        {
            // Rounded up to the next power of ten (e.g. 9.99.. to 10.0..): one more integer digit, one less decimal.
            e++;
            s = s[..digits];
        }

        return Place(s, e);
    }

    private static int Compare(BigInteger num, BigInteger den, int e) =>
        e >= 0 ? num.CompareTo(den * BigInteger.Pow(10, e)) : (num * BigInteger.Pow(10, -e)).CompareTo(den);

    private static string Place(string digits, int e)
    {
        var sb = new StringBuilder(digits.Length + 8);
        if (e < 0)
        {
            sb.Append("0.").Append('0', -e - 1).Append(digits);
        }
        else if (e + 1 >= digits.Length)
        {
            sb.Append(digits).Append('0', e + 1 - digits.Length);
        }
        else
        {
            sb.Append(digits, 0, e + 1).Append('.').Append(digits, e + 1, digits.Length - e - 1);
        }

        return sb.ToString();
    }
}
