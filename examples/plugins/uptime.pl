#!/usr/bin/perl
# An external plugin with no SDK, in Perl with core modules only: it speaks docs/plugin-protocol.md by hand
# on fd 3. It offers uptime.seconds (how long it has run) and uptime.echo (its arguments back), depends on
# the compiled-in "system" plugin, and exits when the daemon closes fd 3 or sends SIGTERM.
use strict;
use warnings;
use IO::Handle;
use JSON::PP;

my $json = JSON::PP->new->canonical->allow_nonref;
open(my $fd, '+<&=', 3) or die "fd 3 is not open: $!";
$fd->autoflush(1);
my $started = time;
$SIG{TERM} = sub { exit 0 };

sub send_message { print {$fd} $json->encode({ jsonrpc => '2.0', %{ $_[0] } }) . "\n"; }

send_message({ id => 1, method => 'plugin.hello', params => {
    protocol => 1, name => 'uptime', version => '1.0', dependencies => ['system'],
    services => [{ name => 'uptime', description => 'How long this plugin has run' }],
    methods => [
        { name => 'uptime.seconds', description => 'Seconds since the plugin started', params => [],
          returns => { type => 'integer' }, roles => ['READONLY_ADMIN'], flags => ['readonly'] },
        { name => 'uptime.echo', description => 'Its arguments back', roles => ['READONLY_ADMIN'],
          params => [{ name => 'value', schema => JSON::PP::true }] },
    ],
}});

while (my $line = <$fd>) {
    my $message = $json->decode($line);
    if (defined $message->{id} && !defined $message->{method}) {
        # A response: to the hello (then say ready) or to the ready.
        send_message({ id => 2, method => 'plugin.ready', params => {} }) if $message->{id} == 1;
        next;
    }
    next unless defined $message->{method} && $message->{method} eq 'method.call';
    my $call = $message->{params};
    if ($call->{method} eq 'uptime.seconds') {
        send_message({ id => $message->{id}, result => time - $started });
    } elsif ($call->{method} eq 'uptime.echo') {
        send_message({ id => $message->{id}, result => $call->{params}[0] });
    } else {
        send_message({ id => $message->{id}, error => { code => 2, message => "no method $call->{method}", data => { errno => 2 } } });
    }
}
exit 0;
