using Microsoft.Extensions.Options;

namespace PiOps.Web.Configuration;

/// <summary>
/// One way to register a configuration section: bound, validated at start by the options' own Validate() (every
/// problem at once, as sentences), so the process refuses to start with the whole list.
/// </summary>
public static class ValidatedOptions
{
    public static OptionsBuilder<T> AddValidatedOptions<T>(this IServiceCollection services, string section, Func<T, IEnumerable<string>> validate)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new Validator<T>(validate));
        return services.AddOptions<T>().BindConfiguration(section).ValidateOnStart();
    }

    private sealed class Validator<T>(Func<T, IEnumerable<string>> validate) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var errors = validate(options).ToList();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
