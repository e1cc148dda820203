from django.shortcuts import render


def storage_list(request):
    return render(request, "storages/list.html", {})
