# Django's zh_Hans data has no thousands separator; ZStack's Chinese console and most Chinese software
# group digits by three with a comma (1,073,741,824 字节), so byte counts stay readable.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
