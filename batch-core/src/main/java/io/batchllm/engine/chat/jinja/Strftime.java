package io.batchllm.engine.chat.jinja;

import java.time.LocalDateTime;
import java.time.temporal.IsoFields;
import java.util.Locale;

/**
 * Python's {@code datetime.strftime} on a naive local time, in the C locale, as CPython on Linux
 * (glibc) formats it: the C89 and POSIX directives, glibc's padding flags ({@code %-d},
 * {@code %_d}, {@code %^a}), {@code %z}/{@code %Z} empty (the time has no zone), unknown
 * directives kept as written.
 */
final class Strftime {
    private static final String[] DAYS = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    private static final String[] MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December"};

    private Strftime() {
    }

    static String format(LocalDateTime t, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < format.length(); i++) {
            char c = format.charAt(i);
            if (c != '%' || i + 1 >= format.length()) {
                out.append(c);
                continue;
            }
            int start = i;
            char flag = 0;
            char next = format.charAt(i + 1);
            if ("-_0^#".indexOf(next) >= 0 && i + 2 < format.length()) {
                flag = next;
                i++;
            }
            char directive = format.charAt(++i);
            String text = directive(t, directive, flag);
            if (text == null) {
                out.append(format, start, i + 1);
            } else {
                out.append(flag == '^' ? text.toUpperCase(Locale.ROOT) : text);
            }
        }
        return out.toString();
    }

    private static String directive(LocalDateTime t, char d, char flag) {
        int dow = t.getDayOfWeek().getValue(); // 1 = Monday
        return switch (d) {
            case 'a' -> DAYS[dow - 1].substring(0, 3);
            case 'A' -> DAYS[dow - 1];
            case 'b', 'h' -> MONTHS[t.getMonthValue() - 1].substring(0, 3);
            case 'B' -> MONTHS[t.getMonthValue() - 1];
            case 'd' -> num(t.getDayOfMonth(), 2, '0', flag);
            case 'e' -> num(t.getDayOfMonth(), 2, ' ', flag);
            case 'm' -> num(t.getMonthValue(), 2, '0', flag);
            case 'y' -> num(t.getYear() % 100, 2, '0', flag);
            case 'Y' -> String.valueOf(t.getYear());
            case 'C' -> num(t.getYear() / 100, 2, '0', flag);
            case 'H' -> num(t.getHour(), 2, '0', flag);
            case 'k' -> num(t.getHour(), 2, ' ', flag);
            case 'I' -> num(hour12(t), 2, '0', flag);
            case 'l' -> num(hour12(t), 2, ' ', flag);
            case 'M' -> num(t.getMinute(), 2, '0', flag);
            case 'S' -> num(t.getSecond(), 2, '0', flag);
            case 'f' -> num(t.getNano() / 1000, 6, '0', flag);
            case 'p' -> t.getHour() < 12 ? "AM" : "PM";
            case 'P' -> t.getHour() < 12 ? "am" : "pm";
            case 'j' -> num(t.getDayOfYear(), 3, '0', flag);
            case 'w' -> String.valueOf(dow % 7);
            case 'u' -> String.valueOf(dow);
            case 'U' -> num((t.getDayOfYear() + 6 - dow % 7) / 7, 2, '0', flag);
            case 'W' -> num((t.getDayOfYear() + 6 - (dow + 6) % 7) / 7, 2, '0', flag);
            case 'V' -> num(t.get(IsoFields.WEEK_OF_WEEK_BASED_YEAR), 2, '0', flag);
            case 'G' -> String.valueOf(t.get(IsoFields.WEEK_BASED_YEAR));
            case 'g' -> num(t.get(IsoFields.WEEK_BASED_YEAR) % 100, 2, '0', flag);
            case 'z', 'Z' -> "";
            case 'c' -> format(t, "%a %b %e %H:%M:%S %Y");
            case 'x', 'D' -> format(t, "%m/%d/%y");
            case 'X', 'T' -> format(t, "%H:%M:%S");
            case 'F' -> format(t, "%Y-%m-%d");
            case 'R' -> format(t, "%H:%M");
            case 'r' -> format(t, "%I:%M:%S %p");
            case 'n' -> "\n";
            case 't' -> "\t";
            case '%' -> "%";
            default -> null;
        };
    }

    private static int hour12(LocalDateTime t) {
        int h = t.getHour() % 12;
        return h == 0 ? 12 : h;
    }

    private static String num(int value, int width, char pad, char flag) {
        String digits = String.valueOf(value);
        if (flag == '-') {
            return digits;
        }
        char fill = flag == '_' ? ' ' : flag == '0' ? '0' : pad;
        return String.valueOf(fill).repeat(Math.max(0, width - digits.length())) + digits;
    }
}
