using System.Text;

namespace Vio4wd.Configuration;

/// <summary>
/// Reads the subset of bash that <c>/etc/default/virtioforwarder</c> files use, as the original
/// start script's <c>source</c> would: assignments (optionally <c>export</c>ed), single and double
/// quotes, backslash escapes, <c>$NAME</c>/<c>${NAME}</c> references to earlier assignments,
/// bash arrays <c>NAME=(a b c)</c> over several lines, and <c>#</c> comments. Anything that would
/// make bash run a command is reported as an error instead of being ignored.
/// </summary>
public sealed class EnvFileParser
{
    private readonly string _text;
    private readonly string _path;
    private readonly ConfigDiagnostics _diagnostics;
    private readonly Dictionary<string, string> _variables = new(StringComparer.Ordinal);
    private readonly List<EnvAssignment> _assignments = [];
    private int _pos;
    private int _line = 1;

    private EnvFileParser(string text, string path, ConfigDiagnostics diagnostics)
    {
        _text = text;
        _path = path;
        _diagnostics = diagnostics;
    }

    public static EnvFile Parse(string text, string path, ConfigDiagnostics diagnostics)
    {
        var parser = new EnvFileParser(text, path, diagnostics);
        parser.ParseStatements();
        return new EnvFile(path, parser._assignments);
    }

    /// <summary>Splits a value into words with the same quoting rules, e.g. for VIRTIOFWD_EAL_ARGS.</summary>
    public static IReadOnlyList<string>? SplitWords(string text, out string problem)
    {
        var parser = new EnvFileParser(text, "value", new ConfigDiagnostics());
        var words = new List<string>();
        problem = string.Empty;
        try
        {
            while (true)
            {
                parser.SkipBlanksAndComments(includeNewlines: true);
                if (parser.AtEnd)
                {
                    return words;
                }

                if (parser.Current == ';')
                {
                    throw new SyntaxException("value: unexpected ';'");
                }

                words.Add(parser.ReadWord("value", inArray: false));
            }
        }
        catch (SyntaxException e)
        {
            problem = e.Message["value: ".Length..];
            return null;
        }
    }

    private bool AtEnd => _pos >= _text.Length;

    private char Current => _text[_pos];

    private void ParseStatements()
    {
        while (true)
        {
            SkipBlanksAndComments(includeNewlines: true);
            if (AtEnd)
            {
                return;
            }

            int line = _line;
            try
            {
                EnvAssignment assignment = ParseAssignment();
                ExpectEndOfStatement(assignment.Name);

                // Recorded only when the whole statement is sound: a half-read line changes nothing.
                _assignments.Add(assignment);
                _variables[assignment.Name] = assignment.Values.Count > 0 ? assignment.Values[0] : string.Empty; // bash: $NAME is element 0
            }
            catch (SyntaxException e)
            {
                _diagnostics.Error($"{_path}:{line}: {e.Message}");
                SkipToNextLine();
            }
        }
    }

    private EnvAssignment ParseAssignment()
    {
        int line = _line;
        string name = ReadIdentifier();
        if (name == "export" && !AtEnd && (Current == ' ' || Current == '\t'))
        {
            SkipBlanksAndComments(includeNewlines: false);
            name = ReadIdentifier();
        }

        if (name.Length == 0 || char.IsDigit(name[0]))
        {
            throw new SyntaxException($"expected NAME=value, found '{RestOfLine()}'");
        }

        if (AtEnd || Current != '=')
        {
            string rest = RestOfLine();
            throw rest.StartsWith("+=", StringComparison.Ordinal)
                ? new SyntaxException($"{name}: '+=' is not supported; assign the whole value")
                : rest.TrimStart().StartsWith('=')
                    ? new SyntaxException($"{name}: no spaces are allowed around '=' (bash would run '{name}' as a command)")
                    : new SyntaxException($"expected NAME=value, found '{name}{rest}'");
        }

        _pos++;
        if (!AtEnd && Current == '(')
        {
            _pos++;
            return new EnvAssignment(name, ReadArrayElements(name), IsArray: true, line);
        }

        return new EnvAssignment(name, [ReadWord(name, inArray: false)], IsArray: false, line);
    }

    private List<string> ReadArrayElements(string name)
    {
        var elements = new List<string>();
        while (true)
        {
            SkipBlanksAndComments(includeNewlines: true);
            if (AtEnd)
            {
                throw new SyntaxException($"{name}: array is missing its closing ')'");
            }

            if (Current == ')')
            {
                _pos++;
                return elements;
            }

            // As bash says; an empty word here would also never move on (fuzzing found "S=(;").
            if (Current == ';')
            {
                throw new SyntaxException($"{name}: unexpected ';' in an array");
            }

            elements.Add(ReadWord(name, inArray: true));
        }
    }

    private string ReadWord(string name, bool inArray)
    {
        var word = new StringBuilder();
        while (!AtEnd)
        {
            char c = Current;
            if (c is ' ' or '\t' or '\n' or '\r' or ';' || (inArray && c == ')'))
            {
                break;
            }

            switch (c)
            {
                case '\\':
                    ReadBackslash(word);
                    break;
                case '\'':
                    ReadSingleQuoted(name, word);
                    break;
                case '"':
                    ReadDoubleQuoted(name, word);
                    break;
                case '$':
                    ReadExpansion(name, word);
                    break;
                case '`':
                    throw new SyntaxException($"{name}: command substitution is not supported");
                case '(' or ')' or '|' or '&' or '<' or '>':
                    throw new SyntaxException($"{name}: unexpected '{c}'; quote the value if it contains shell characters");
                default:
                    word.Append(c);
                    _pos++;
                    break;
            }
        }

        return word.ToString();
    }

    private void ReadBackslash(StringBuilder word)
    {
        _pos++;
        if (AtEnd)
        {
            return;
        }

        if (Current == '\n')
        {
            _line++; // line continuation
        }
        else
        {
            word.Append(Current);
        }

        _pos++;
    }

    private void ReadSingleQuoted(string name, StringBuilder word)
    {
        int close = _text.IndexOf('\'', _pos + 1);
        if (close < 0)
        {
            throw new SyntaxException($"{name}: missing closing single quote");
        }

        string content = _text[(_pos + 1)..close];
        _line += content.Count(ch => ch == '\n');
        word.Append(content);
        _pos = close + 1;
    }

    private void ReadDoubleQuoted(string name, StringBuilder word)
    {
        _pos++;
        while (!AtEnd && Current != '"')
        {
            char c = Current;
            if (c == '\\' && _pos + 1 < _text.Length && _text[_pos + 1] is '\\' or '"' or '$' or '`' or '\n')
            {
                char escaped = _text[_pos + 1];
                if (escaped == '\n')
                {
                    _line++;
                }
                else
                {
                    word.Append(escaped);
                }

                _pos += 2;
            }
            else if (c == '$')
            {
                ReadExpansion(name, word);
            }
            else if (c == '`')
            {
                throw new SyntaxException($"{name}: command substitution is not supported");
            }
            else
            {
                if (c == '\n')
                {
                    _line++;
                }

                word.Append(c);
                _pos++;
            }
        }

        if (AtEnd)
        {
            throw new SyntaxException($"{name}: missing closing double quote");
        }

        _pos++;
    }

    private void ReadExpansion(string name, StringBuilder word)
    {
        _pos++;
        if (AtEnd)
        {
            word.Append('$');
            return;
        }

        string reference;
        if (Current == '{')
        {
            int close = _text.IndexOf('}', _pos);
            reference = close < 0 ? string.Empty : _text[(_pos + 1)..close];
            if (close < 0 || reference.Length == 0 || !IsIdentifier(reference))
            {
                throw new SyntaxException($"{name}: only plain ${{NAME}} expansions are supported");
            }

            _pos = close + 1;
        }
        else if (Current == '(')
        {
            throw new SyntaxException($"{name}: command substitution is not supported");
        }
        else if (IsIdentifierStart(Current))
        {
            reference = ReadIdentifier();
        }
        else
        {
            word.Append('$');
            return;
        }

        if (!_variables.TryGetValue(reference, out string? value))
        {
            _diagnostics.Warning($"{_path}:{_line}: {name}: ${reference} is not set earlier in the file and expands to nothing");
            value = string.Empty;
        }

        word.Append(value);
    }

    private void ExpectEndOfStatement(string name)
    {
        SkipBlanksAndComments(includeNewlines: false);
        if (AtEnd)
        {
            return;
        }

        if (Current is '\n' or ';')
        {
            _pos++;
            _line += _text[_pos - 1] == '\n' ? 1 : 0;
            return;
        }

        throw new SyntaxException($"{name}: unexpected '{RestOfLine()}' after the value; quote values that contain spaces");
    }

    private void SkipBlanksAndComments(bool includeNewlines)
    {
        while (!AtEnd)
        {
            char c = Current;
            if (c is ' ' or '\t' or '\r')
            {
                _pos++;
            }
            else if (c == '\n' && includeNewlines)
            {
                _line++;
                _pos++;
            }
            else if (c == '\\' && _pos + 1 < _text.Length && _text[_pos + 1] == '\n')
            {
                _line++;
                _pos += 2;
            }
            else if (c == '#')
            {
                while (!AtEnd && Current != '\n')
                {
                    _pos++;
                }
            }
            else
            {
                return;
            }
        }
    }

    private void SkipToNextLine()
    {
        while (!AtEnd && Current != '\n')
        {
            _pos++;
        }
    }

    private string RestOfLine()
    {
        int end = _text.IndexOf('\n', _pos);
        return (end < 0 ? _text[_pos..] : _text[_pos..end]).TrimEnd('\r');
    }

    private string ReadIdentifier()
    {
        int start = _pos;
        while (!AtEnd && (char.IsAsciiLetterOrDigit(Current) || Current == '_'))
        {
            _pos++;
        }

        return _text[start.._pos];
    }

    private static bool IsIdentifierStart(char c) => char.IsAsciiLetter(c) || c == '_';

    private static bool IsIdentifier(string text) =>
        IsIdentifierStart(text[0]) && text.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private sealed class SyntaxException(string message) : Exception(message);
}
