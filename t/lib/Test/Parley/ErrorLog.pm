package Test::Parley::ErrorLog;

# The error.log check every nginx test makes, whichever harness runs it:
# no [alert], [crit] or [emerg] line, except the lines a test expects.
#
#   my @bad = Test::Parley::ErrorLog::unexpected($log, @expected);
#
# @expected holds the patterns of a block's --- error_log (substrings, or
# qr// from "eval"): a line at one of those levels is allowed only when one
# of them matches that very line, so expecting one alert excuses no other.
# Returns the lines that are not allowed, in log order.

use strict;
use warnings;

our @Levels = qw(alert crit emerg);

sub matches {
    my ($line, $pat) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub unexpected {
    my ($log, @expected) = @_;
    my $levels = join '|', @Levels;
    return grep {
        my $line = $_;
        $line =~ /\[(?:$levels)\]/ && !grep { matches($line, $_) } @expected;
    } split /\n/, $log // '';
}

1;
