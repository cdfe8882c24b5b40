# Media resources across a thousand joins and leaves over two workers:
# nothing stays behind (no track, no peer connection, no participant) and
# the workers' memory stops growing. See t/lib/Test/Parley/Churn.pm.
#
#   TEST_NGINX_LOAD_MODULES=build/ngx_http_parley_module.so prove -It/lib t/007-media-churn.t

use strict;
use warnings;
use Test::More;
use Test::Parley::Churn;

Test::Parley::Churn::run(rounds => $ENV{PARLEY_CHURN_ROUNDS} // 1000);

done_testing();
