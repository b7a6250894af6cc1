# Text tools: cat, grep -r, sed -i, awk, sort, uniq, wc, head, tail, cut, tr, xargs.
printf 'banana\napple\ncherry\napple\n' > fruit
sort fruit | uniq -c
sort -r fruit | head -n 2
wc -l fruit
tail -n 1 fruit
cut -c1-3 fruit | tr a-z A-Z
grep -c apple fruit
mkdir -p tree/sub
echo needle > tree/sub/hay
grep -r needle tree
sed -i 's/apple/pear/' fruit
cat fruit
awk '{n += length($0)} END {print "chars", n}' fruit
printf '1\n2\n3\n' | xargs -n 1 echo item
printf 'a b\nc d\n' | awk '{print $2}'
