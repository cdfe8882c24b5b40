# The media churn of t/007-media-churn.t with nginx as one process under
# valgrind: no memory that parley allocated may be lost (valgrind's
# "definitely lost" with a parley frame in its stack), and no invalid read
# or write may pass through parley's code. Fewer rounds: valgrind is slow.
#
#   TEST_NGINX_LOAD_MODULES=build/ngx_http_parley_module.so prove -It/lib t/008-media-valgrind.t

use strict;
use warnings;
use Test::More;
use Test::Parley::Churn;
use File::Temp qw(tempdir);

plan skip_all => 'valgrind is not installed (tools/deps.sh test installs it)'
    unless grep { -x "$_/valgrind" } split /:/, $ENV{PATH};

my $dir = tempdir(CLEANUP => !$ENV{PARLEY_KEEP});
note("valgrind log in $dir") if $ENV{PARLEY_KEEP};
my $log = "$dir/valgrind.log";

Test::Parley::Churn::run(rounds => $ENV{PARLEY_VALGRIND_ROUNDS} // 40,
                         valgrind => $log);

open my $fh, '<', $log or die "$log: $!";
my $text = do { local $/; <$fh> };
close $fh;

# valgrind's records are blank-line separated blocks of "==pid==" lines
my @records = split /\n(?:==\d+==\s*\n)+/, $text;
my @ours = grep { /ngx_http_parley|parley_/ } @records;
my @lost = grep { /definitely lost/ } @ours;
my @invalid = grep { /Invalid (?:read|write|free)|uninitialised|Mismatched/ } @ours;

is(scalar @lost, 0, 'valgrind finds no memory lost by parley')
    or diag(join "\n\n", @lost[0 .. ($#lost < 2 ? $#lost : 2)]);
is(scalar @invalid, 0, 'valgrind finds no invalid access in parley')
    or diag(join "\n\n", @invalid[0 .. ($#invalid < 2 ? $#invalid : 2)]);
my ($summary) = grep { /ERROR SUMMARY/ } split /\n/, $text;
ok($summary, 'nginx ran under valgrind to its end') or diag(substr($text, 0, 2000));
note($summary // '');
my ($leaks) = $text =~ /(definitely lost: .*)/;
note("in all (nginx and the libraries too): $leaks") if $leaks;

done_testing();
