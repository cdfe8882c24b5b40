package Test::Parley::ErrorLog;

# The error.log check every nginx test makes, whichever harness runs it:
# no [alert], [crit] or [emerg] line, except the lines a test expects.
#
#   my @bad = Test::Parley::ErrorLog::unexpected($log,
#       Test::Parley::ErrorLog::patterns($block->error_log));
#
# unexpected() takes the patterns a block expects (substrings, or qr// from
# "eval"): a line at one of those levels is allowed only when one of them
# matches that very line, so expecting one alert excuses no other.  It
# returns the lines that are not allowed, in log order.

use strict;
use warnings;

our @Levels = qw(alert crit emerg);

# The patterns of an --- error_log (or no_error_log) section: its
# non-blank lines, or with "eval" a qr//, a string or an array of them.
sub patterns {
    return map {
        ref eq 'ARRAY' ? @$_ : ref eq 'Regexp' ? $_ : grep { /\S/ } split /\n/
    } grep { defined } @_;
}

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
