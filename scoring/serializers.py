from __future__ import annotations

from rest_framework import serializers


class ReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    value = serializers.JSONField()
    impact = serializers.FloatField(allow_null=True, help_text="log-odds of default this factor adds")
    text_en = serializers.CharField()
    text_zh = serializers.CharField()


class FlagSerializer(serializers.Serializer):
    code = serializers.CharField()
    text_en = serializers.CharField()
    text_zh = serializers.CharField()


class CurrentScoreSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    pd = serializers.FloatField()
    grade = serializers.IntegerField()
    band = serializers.ListField(child=serializers.FloatField(), help_text="PD band of the grade [lower, upper)")
    points = serializers.FloatField(allow_null=True)
    model_version = serializers.IntegerField()
    reasons = ReasonSerializer(many=True)
    flags = FlagSerializer(many=True)
    computed_at = serializers.DateTimeField()


class HistoryPointSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    pd = serializers.FloatField()
    grade = serializers.IntegerField()
    model_version = serializers.IntegerField()
    trigger = serializers.CharField()


class GradeChangeSerializer(serializers.Serializer):
    as_of = serializers.DateField()
    old_grade = serializers.IntegerField(allow_null=True)
    new_grade = serializers.IntegerField()
    new_pd = serializers.FloatField()
    trigger = serializers.CharField()


class CustomerScoreSerializer(serializers.Serializer):
    customer = serializers.IntegerField()
    external_id = serializers.CharField()
    current = CurrentScoreSerializer(allow_null=True)
    history = HistoryPointSerializer(many=True)
    grade_changes = GradeChangeSerializer(many=True)


class GradeRowSerializer(serializers.Serializer):
    grade = serializers.IntegerField()
    pd_lower = serializers.FloatField()
    pd_upper = serializers.FloatField()
    customers = serializers.IntegerField()
    exposure = serializers.DecimalField(max_digits=20, decimal_places=2)
    customer_share = serializers.FloatField()
    exposure_share = serializers.FloatField()
