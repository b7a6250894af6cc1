# File tools: mkdir -p, cp -a, mv, ln -s, rm -r, ls, touch -d, stat, chmod, chown, find -exec, du.
mkdir -p d/e
echo hello > d/e/f
cp -a d c
mv c m
ln -s m/e/f link
cat link
readlink link
ls m/e
ls -l m/e | awk 'NR > 1 {print $1, $2, $3, $4, $5, $NF}'
touch -d '2020-01-02 03:04:05' d/e/f
stat -c '%n %s %a %Y %F' d/e/f
chmod 640 d/e/f
chown 12:34 d/e/f
stat -c '%a %u %g' d/e/f
find . -type f -exec echo found {} \; | sort
find . -name 'f' | sort
rm -r d m link
ls
echo done
