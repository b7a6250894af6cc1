# Archives and checksums: tar c/x, gzip, gunzip, md5sum, sha256sum.
mkdir -p a/b
echo data > a/b/f
printf 'hello' > a/g
tar cf a.tar a
rm -r a
tar xf a.tar
cat a/b/f
tar tf a.tar | sort
gzip a.tar
ls a.tar.gz
gunzip a.tar.gz
tar tf a.tar | wc -l
md5sum a/g
sha256sum a/g
dd if=/dev/zero bs=1024 count=64 2>/dev/null | md5sum
