# Sourced by the bench scripts. seed_postern DATA OFFSET: the accounts and folders their scenarios use, on a Postern
# server that runs on DATA at port offset OFFSET: bench0..7 and sink0..3 (password $PASSWORD), the newsgroup
# postern.bench, and ten 4 KB messages in each bench account's INBOX. Needs $P (postern) and $B (Postern.Bench).
seed_postern() {
    local data=$1 offset=$2
    for n in bench0 bench1 bench2 bench3 bench4 bench5 bench6 bench7 sink0 sink1 sink2 sink3; do
        echo "$PASSWORD" | $P user add "$n@example.test" --password-stdin --data "$data" >/dev/null
    done
    $P public-folder add Bench --newsgroup postern.bench --data "$data" >/dev/null
    for i in $(seq 0 7); do
        $B --scenario imap-append --port $((offset + 993)) --tls implicit --connections 1 --count 10 --size 4 --user "bench$i@example.test" --password "$PASSWORD" >/dev/null
    done
}
